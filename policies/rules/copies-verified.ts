import { bad, ok, type Rule } from "../rule";

export const copiesVerified: Rule = {
  id: "HB-VERIFIED",
  name: "copies-verified",
  description: "3-2-1-1-0: every backup copy is verified on a schedule (PBS verify job, borgmatic check, replication checksums), so corruption is found before a restore needs the copy.",
  fix: "Add a verify job on the datastore (datastores[].verify.schedule), or a consistency check on the agent's repository.",
  enforcement: "mandatory",
  check({ classes }) {
    return classes.map((c) => {
      const unverified = c.copies.filter((copy) => !copy.original && !copy.verified);
      return unverified.length
        ? bad(c.name, `data class ${c.name}: ${unverified.map((u) => `${u.location} is not verified (${u.verification})`).join("; ")}`)
        : ok(c.name);
    });
  },
};

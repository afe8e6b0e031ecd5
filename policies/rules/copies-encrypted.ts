import { bad, ok, type Rule } from "../rule";

export const copiesEncrypted: Rule = {
  id: "HB-ENCRYPTED",
  name: "copies-encrypted",
  description: "Every copy that leaves the source host is encrypted (PBS client-side key, SSE-KMS, borg repokey), so a stolen disk or bucket reveals nothing.",
  fix: "Turn on client-side encryption of the PBS storage (security.clientSideEncryption), SSE-KMS on the bucket, or borg encryption on the repository.",
  enforcement: "mandatory",
  check({ classes }) {
    return classes.map((c) => {
      const plain = c.copies.filter((x) => !x.original && !x.encrypted);
      return plain.length ? bad(c.name, `data class ${c.name}: ${plain.map((p) => p.location).join(", ")} not encrypted`) : ok(c.name);
    });
  },
};

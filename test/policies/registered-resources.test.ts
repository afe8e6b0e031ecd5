import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { readStackFile } from "../../plan/stack-file";
import { recordProgram } from "../../plan/record";
import { deriveCopies } from "../../model";
import { toModelResource } from "../../plan/document";
import { parseStrategy } from "../../config/validate";
import { withPlaceholderSecrets } from "../../plan/placeholders";

test("the model judges registered resources: a job added outside the components is a data class", async () => {
  const file = readStackFile(join(__dirname, "..", "..", "Pulumi.homelab.yaml"));
  const parsed = parseStrategy(file.raw);
  assert.ok(parsed.ok);
  const { config, secretKeys } = withPlaceholderSecrets(parsed.strategy, file.config, file.secretKeys);
  const recording = await recordProgram(
    { project: "homelab-backup", stack: "homelab", config, secretKeys },
    async () => {
      const { runProgram } = await import("../../stacks/program");
      const proxmoxve = await import("@muhlba91/pulumi-proxmoxve");
      return () => {
        const outputs = runProgram();
        new proxmoxve.backup.Job("hand-added", { resourceId: "backup-hand-added", schedule: "Sun *-*-* 05:00", storage: "pbs-backup-critical", vmids: ["999"] });
        return outputs;
      };
    },
  );
  const classes = deriveCopies(recording.resources.map(toModelResource));
  const hand = classes.find((c) => c.name === "hand-added");
  assert.ok(hand, classes.map((c) => c.name).join(", "));
  assert.equal(hand.tier, undefined, "no tier in its notes: the RPO rule will say so");
  assert.equal(hand.copies[1]?.location, "PBS critical");
  assert.ok(classes.some((c) => c.name === "database-vms"));
});

// The CrossGuard pack: `pulumi preview -s homelab --policy-pack policies`. Only the pack is
// constructed here; the rules live in rules/ and also run in the offline plan.
import { PolicyPack } from "@pulumi/policy";
import { STACK_POLICIES } from "./pack";

new PolicyPack("homelab-backup", { policies: STACK_POLICIES });

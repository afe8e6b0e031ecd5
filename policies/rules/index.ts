/** Every rule of the pack, in the order the docs list them. */
import type { Rule } from "../rule";
import { capacityProjection } from "./capacity-projection";
import { copiesEncrypted } from "./copies-encrypted";
import { copiesVerified } from "./copies-verified";
import { dataProtected } from "./data-protected";
import { firewallDefaultDeny } from "./firewall-default-deny";
import { offsiteCostWaste } from "./offsite-cost-waste";
import { offsiteRetention } from "./offsite-retention";
import { immutableCopy } from "./immutable-copy";
import { maintenanceWindow } from "./maintenance-window";
import { noPlaintextSecrets } from "./no-plaintext-secrets";
import { onsiteOnlyDeclared } from "./onsite-only-declared";
import { onsiteRetention } from "./onsite-retention";
import { restoreTest } from "./restore-test";
import { scheduleMeetsRpo } from "./schedule-meets-rpo";
import { syncNeverDeletes } from "./sync-never-deletes";
import { threeTwoOne } from "./three-two-one";

export const RULES: readonly Rule[] = [
  threeTwoOne,
  onsiteOnlyDeclared,
  immutableCopy,
  copiesVerified,
  restoreTest,
  scheduleMeetsRpo,
  onsiteRetention,
  offsiteRetention,
  copiesEncrypted,
  dataProtected,
  syncNeverDeletes,
  noPlaintextSecrets,
  firewallDefaultDeny,
  maintenanceWindow,
  offsiteCostWaste,
  capacityProjection,
];

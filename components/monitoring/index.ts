/** Monitoring: the notify command, the capacity and freshness timers, and what they share with the PVE backup hook. */
export {
  NOTIFY_COMMAND,
  NOTIFY_ENV_FILE,
  SEVERITIES,
  renderNotifyEnv,
  renderNotifyScript,
  secretEnvName,
  validateTargets,
  type GotifyTarget,
  type NotifyLayout,
  type NotifyTarget,
  type Severity,
  type SmtpTarget,
  type WebhookTarget,
} from "./notify-script";
export { NOTIFIER_TYPE, Notifier, type NotifierArgs, type NotifierHost } from "./notifier";
export { renderCapacityEnv, renderCapacityScript, resolveCapacitySpec, type CapacitySpec, type TruenasApiEndpoint } from "./capacity-script";
export { CAPACITY_CHECK_TYPE, CapacityCheck, type CapacityCheckArgs } from "./capacity-check";
export { renderFreshnessEnv, renderFreshnessScript, resolveFreshnessSpec, type FreshnessService, type FreshnessSpec } from "./freshness-script";
export { FRESHNESS_CHECK_TYPE, FreshnessCheck, type FreshnessCheckArgs } from "./freshness-check";
export { TRUENAS_QUERY_SCRIPT } from "./truenas-query";
export { renderCheckUnits, type CheckUnits } from "./systemd";
export { checkDeployScript, checkFiles, checkRemoveScript } from "./check-steps";
export { checkUnitNames, defaultCheckLayout, type CheckKind, type CheckLayout } from "./layout";
export { MonitoringArgsError, type HostConnection, type PbsApiEndpoint } from "./connection";

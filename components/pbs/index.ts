/** Proxmox Backup Server: dynamic-provider resources and the primary-tier component. */
export { Acl, ApiToken, Datastore, Namespace, NotificationEndpoint, NotificationMatcher, PruneJob, User, VerifyJob } from "./resources";
export type {
  AclArgs,
  ApiTokenArgs,
  DatastoreArgs,
  GotifyEndpointArgs,
  NamespaceArgs,
  NotificationEndpointArgs,
  NotificationMatcherArgs,
  PruneJobArgs,
  SmtpEndpointArgs,
  UserArgs,
  VerifyJobArgs,
  WebhookEndpointArgs,
} from "./resources";
export type { DatastoreTuning, MaintenanceMode } from "./datastore";
export type { Role } from "./acl";
export type { Severity } from "./notifications";
export type { PbsConnectionArgs } from "./provider";
export { PbsApiError, PbsNetworkError, PbsTaskError, type PbsConnection } from "./client";
export { FingerprintMismatchError } from "./tls";
export {
  PbsDatastoreStack,
  validatePbsDatastoreStackArgs,
  type NotificationEndpointSpec,
  type NotificationMatcherSpec,
  type PbsDatastoreStackArgs,
  type PruneJobSpec,
  type PveAccessSpec,
  type VerifyJobSpec,
} from "./primary";

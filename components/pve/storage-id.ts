/**
 * The PVE storage id a service's backups go to: one `pbs` storage per datastore and namespace.
 * Apart from the component so tools that never run the program (the restore wizard) share it
 * without loading the provider SDK.
 */
import type { Service } from "../../config/strategy";

export function storageIdFor(baseId: string, service: Pick<Service, "datastore" | "namespace">, multipleDatastores: boolean): string {
  const parts = [baseId];
  if (multipleDatastores) parts.push(service.datastore);
  if (service.namespace) parts.push(service.namespace);
  return parts.join("-");
}

/** The protection model with every tier's resolvers: what the plan and the policies call. */
import { protectionModel, type DataClass, type DownstreamResolver } from "./copies";
import { nasReplica } from "./downstream";
import type { ModelResource } from "./resource";

const DOWNSTREAM: readonly DownstreamResolver[] = [nasReplica];

export function deriveCopies(resources: readonly ModelResource[]): DataClass[] {
  return protectionModel(resources, DOWNSTREAM);
}

export { counts, type Copy, type DataClass } from "./copies";
export type { ModelResource } from "./resource";

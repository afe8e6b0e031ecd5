/**
 * A TrueNAS periodic snapshot task (`pool.snapshottask.*`): snapshots of a dataset on the NAS's
 * own pools, destroyed by TrueNAS when they outlive `lifetime`.
 *
 * Deleting or changing a task never destroys a snapshot:
 * - delete passes `fixate_removal_date: false`. With `true`, TrueNAS writes each snapshot's
 *   removal date (creation + lifetime) into a ZFS property and destroys it on that date even
 *   though the task is gone; with `false` the snapshots are no longer owned by any task, so no
 *   retention ever destroys them: they stay until someone removes them by hand.
 * - update never sends `fixate_removal_date`: current middleware fixates whenever the key is
 *   present, whatever its value.
 */
import * as pulumi from "@pulumi/pulumi";
import type { WindowedCronSchedule } from "./cron";
import { DATASET, DATASET_EXPECTED, isChildDataset, LIFETIME_UNITS, type Checker, type LifetimeUnit, type Props } from "./fields";
import { DEFAULT_NAMING_SCHEMA, namingSchemaProblem } from "./naming-schema";
import { createdId, makeProvider, queryById, secretOutputs, type ResourceSpec, type TruenasConnectionArgs } from "./provider";
import { checkSchedule } from "./schedule-input";
import { DynamicResource, SerializedProvider } from "../dynamic/serialized-provider";

const NAMESPACE = "pool.snapshottask";

export function checkSnapshotTask(c: Checker): void {
  const dataset = c.string("dataset", { required: true, pattern: DATASET, expected: DATASET_EXPECTED });
  const recursive = c.boolean("recursive", { default: false });
  const exclude = c.strings("exclude", { default: [] });
  c.integer("lifetimeValue", { default: 2, min: 1 });
  c.oneOf("lifetimeUnit", LIFETIME_UNITS, { default: "WEEK" });
  const schema = c.string("namingSchema", { default: DEFAULT_NAMING_SCHEMA });
  checkSchedule(c, "schedule", { windowed: true, required: true });
  c.boolean("allowEmpty", { default: true });
  c.boolean("enabled", { default: true });

  if (recursive === false && exclude && exclude.length > 0) {
    c.fail("exclude", "Excluding datasets is not necessary for non-recursive periodic snapshot tasks");
  }
  if (dataset !== undefined && exclude) {
    exclude.forEach((e, i) => {
      if (!isChildDataset(e, dataset)) c.fail(`exclude[${i}]`, "Excluded dataset should be a child or other descendant of the selected dataset");
    });
  }
  if (schema !== undefined) {
    const problem = namingSchemaProblem(schema);
    if (problem) c.fail("namingSchema", problem);
  }
}

function toApi(inputs: Props): Record<string, unknown> {
  return {
    dataset: inputs.dataset,
    recursive: inputs.recursive,
    exclude: inputs.exclude,
    lifetime_value: inputs.lifetimeValue,
    lifetime_unit: inputs.lifetimeUnit,
    naming_schema: inputs.namingSchema,
    schedule: inputs.schedule,
    allow_empty: inputs.allowEmpty,
    enabled: inputs.enabled,
  };
}

export function snapshotTaskFromApi(row: Record<string, unknown>): Props {
  const schedule = (row.schedule ?? {}) as Record<string, unknown>;
  return {
    dataset: row.dataset,
    recursive: row.recursive,
    exclude: row.exclude,
    lifetimeValue: row.lifetime_value,
    lifetimeUnit: row.lifetime_unit,
    namingSchema: row.naming_schema,
    schedule: {
      minute: schedule.minute,
      hour: schedule.hour,
      dom: schedule.dom,
      month: schedule.month,
      dow: schedule.dow,
      begin: schedule.begin,
      end: schedule.end,
    },
    allowEmpty: row.allow_empty,
    enabled: row.enabled,
  };
}

export const snapshotTaskSpec: ResourceSpec = {
  kind: "periodic snapshot task",
  fields: ["dataset", "recursive", "exclude", "lifetimeValue", "lifetimeUnit", "namingSchema", "schedule", "allowEmpty", "enabled"],
  check: checkSnapshotTask,
  async create(client, inputs) {
    return { id: createdId("periodic snapshot task", await client.call(`${NAMESPACE}.create`, [toApi(inputs)])) };
  },
  async read(client, id) {
    const row = await queryById(client, NAMESPACE, id);
    return row && snapshotTaskFromApi(row);
  },
  async update(client, id, _olds, news) {
    await client.call(`${NAMESPACE}.update`, [id, toApi(news)]);
  },
  async delete(client, id) {
    await client.call(`${NAMESPACE}.delete`, [id, { fixate_removal_date: false }]);
  },
};

const snapshotTaskProvider = new SerializedProvider("truenas-snapshot-task", makeProvider(snapshotTaskSpec));

export interface PeriodicSnapshotTaskArgs {
  readonly connection: pulumi.Input<TruenasConnectionArgs>;
  /** Dataset on the NAS, e.g. `tank/fileserver`. */
  readonly dataset: pulumi.Input<string>;
  /** Also snapshot child datasets. @default false */
  readonly recursive?: pulumi.Input<boolean>;
  /** Children to leave out (recursive tasks only). @default [] */
  readonly exclude?: pulumi.Input<pulumi.Input<string>[]>;
  /** How long each snapshot lives. @default 2 */
  readonly lifetimeValue?: pulumi.Input<number>;
  /** @default "WEEK" */
  readonly lifetimeUnit?: pulumi.Input<LifetimeUnit>;
  /** strftime template with %Y %m %d %H %M. @default "auto-%Y-%m-%d_%H-%M" */
  readonly namingSchema?: pulumi.Input<string>;
  /** When snapshots are taken (use `calendarToWindowedCron`). */
  readonly schedule: pulumi.Input<WindowedCronSchedule>;
  /** Take snapshots even when nothing changed. @default true */
  readonly allowEmpty?: pulumi.Input<boolean>;
  /** @default true */
  readonly enabled?: pulumi.Input<boolean>;
}

export class PeriodicSnapshotTask extends DynamicResource {
  declare readonly truenasId: pulumi.Output<number>;
  declare readonly dataset: pulumi.Output<string>;
  declare readonly recursive: pulumi.Output<boolean>;
  declare readonly lifetimeValue: pulumi.Output<number>;
  declare readonly lifetimeUnit: pulumi.Output<LifetimeUnit>;
  declare readonly namingSchema: pulumi.Output<string>;
  declare readonly schedule: pulumi.Output<WindowedCronSchedule>;
  declare readonly enabled: pulumi.Output<boolean>;

  constructor(name: string, args: PeriodicSnapshotTaskArgs, opts?: pulumi.CustomResourceOptions) {
    super(snapshotTaskProvider, name, { truenasId: undefined, ...args }, secretOutputs(opts), "truenas", "PeriodicSnapshotTask");
  }
}

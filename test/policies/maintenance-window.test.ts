import { test } from "node:test";
import assert from "node:assert/strict";
import { maintenanceWindow, weekMinutes } from "../../policies/rules/maintenance-window";
import { parseCalendarEvent } from "../../config/calendar";
import { change, compliantTopology, failures } from "./fixture";

test("HB-WINDOW compliant: maintenance past the half hour of hourly jobs", () => {
  assert.deepEqual(failures(maintenanceWindow, compliantTopology()), []);
});

test("HB-WINDOW flags GC inside an hourly backup window, at the first clash", () => {
  const t = change(compliantTopology(), "critical-datastore", { gcSchedule: "*-*-* 05:10" });
  assert.deepEqual(failures(maintenanceWindow, t), ["GC of datastore critical (*-*-* 05:10) starts Mon 05:10, inside a backup window"]);
});

test("HB-WINDOW boundary: minute 30 after the hour is outside, 29 inside", () => {
  assert.deepEqual(failures(maintenanceWindow, change(compliantTopology(), "critical-datastore", { gcSchedule: "*-*-* 05:30" })), []);
  assert.equal(failures(maintenanceWindow, change(compliantTopology(), "critical-datastore", { gcSchedule: "*-*-* 05:29" })).length, 1);
  assert.equal(weekMinutes(parseCalendarEvent("Sun *-*-* 03:00")).length, 1);
});

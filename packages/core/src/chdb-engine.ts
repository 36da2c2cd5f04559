/**
 * Engine arguments chDB takes only when it starts on a data directory. Its
 * own defaults give the engine one thread and one queue slot for every
 * table's housekeeping (removing the parts a mutation or merge replaced):
 * with some thirty tables asking for that slot, a table refused often enough
 * backs off for minutes, and the parts an erasure rewrote stay on disk long
 * past `old_parts_lifetime`. The common pool gets a ClickHouse server's
 * default size, the schedule pool (which wakes each table's tasks) a modest
 * one. The embedded warehouse and the test kit's ClickHouse front both start
 * chDB with them.
 */
export const CHDB_ENGINE_ARGS: readonly string[] = [
  '--background_common_pool_size=8',
  '--background_schedule_pool_size=16',
];

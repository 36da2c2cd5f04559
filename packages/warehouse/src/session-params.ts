import { formatQueryParams } from '@clickhouse/client-common';
import { CdpError } from '@cdp/core';
import { isIdentifier, quoteString } from './sql.js';

/**
 * The statement that binds `{name:Type}` placeholders on a chDB session:
 * `SET param_name = '<value>'`, the value written as a ClickHouse server
 * reads it from an HTTP `param_name` (the client's own formatter), so both
 * backends bind an ad-hoc query's parameters the same way. `undefined` when
 * there is nothing to bind.
 *
 * Why not chdb's binder: chdb-node runs every bound query of the process one
 * after the other (one process-wide chain, because libchdb's bound parameters
 * are not kept apart per connection), so one long ad-hoc query with a
 * parameter would hold up every bound query of every session. A `SET` is a
 * session setting: it stays on that session only (measured with chdb 3.4), and
 * ad-hoc sessions are opened for one query and closed.
 */
export function setParamsSql(
  params: Readonly<Record<string, unknown>> | undefined,
): string | undefined {
  const entries = Object.entries(params ?? {});
  if (entries.length === 0) return undefined;
  const assignments = entries.map(([name, value]) => {
    if (!isIdentifier(name)) {
      throw new CdpError('CDP_ERR_WAREHOUSE_QUERY', {
        message: `A parameter name is letters, digits and _ (got ${JSON.stringify(name)})`,
        field: `params.${name}`,
      });
    }
    return `param_${name} = ${quoteString(formatQueryParams({ value }))}`;
  });
  return `SET ${assignments.join(', ')}`;
}

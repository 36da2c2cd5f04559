import type { BootstrapResult } from '@cdp/sources';

/** What a person sees on the first start: the keys and a request to copy. */
export function firstStartBanner(url: string, creds: BootstrapResult): string {
  if (!creds.created) {
    return `CDP is running on ${url} (credentials in ${creds.credentialsPath})\n`;
  }
  const { writeKey } = creds.created;
  return [
    '',
    `  CDP is running on ${url}`,
    '',
    `  Write key (ingest):    ${writeKey}`,
    `  Admin token (APIs):    ${creds.adminToken}`,
    `  Both are saved in      ${creds.credentialsPath}`,
    '',
    '  Send an event:',
    `    curl -u '${writeKey}:' -H 'content-type: application/json' \\`,
    `      -d '{"userId":"user-1","event":"Order Completed","properties":{"revenue":42}}' ${url}/v1/track`,
    '',
    '  Query it (about a second later):',
    `    curl -H 'authorization: Bearer ${creds.adminToken}' -H 'content-type: application/json' \\`,
    `      -d '{"query":"SELECT type, event, channel, timestamp FROM events ORDER BY timestamp DESC LIMIT 10"}' ${url}/v1/sql`,
    '',
  ].join('\n');
}

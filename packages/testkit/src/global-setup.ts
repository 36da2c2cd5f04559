/**
 * Vitest global setup for integration tests. Placeholder until the Kafka kit
 * lands: it exports the broker address to the test workers.
 */
export default async function setup(): Promise<void> {}

/** A running (or borrowed) Kafka cluster for tests. */
export interface KafkaHandle {
  /** `external`: `KAFKA_BROKERS`; `container`: testcontainers; `jvm`: Apache Kafka's jars on the local JDK. */
  readonly kind: 'external' | 'container' | 'jvm';
  /** Bootstrap addresses, `host:port`. */
  readonly brokers: readonly string[];
  /** The broker's own log (jvm only). */
  readonly logFile?: string;
  /** Stops what this handle started (nothing, for `external`); safe to call twice. */
  stop(): Promise<void>;
}

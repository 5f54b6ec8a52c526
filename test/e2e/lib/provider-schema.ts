/**
 * The Docker provider's schema flags for the inputs the e2e applier diffs, keyed by Pulumi input
 * name. Read from kreuzwerker/terraform-provider-docker at 5074970c (v4.5.0, bundled by
 * pulumi-docker 5.1.0); each row names its file (`container.go` is
 * internal/provider/resource_docker_container.go, `network.go` resource_docker_network.go,
 * `helpers.go` the label schema) and, in the flags, what it says: fn = ForceNew, computed =
 * Computed, default = Default, emptyIsOld = a DiffSuppressFunc that treats a new "" as the old
 * value. Fields without `fn` are updated in place (Update, in resource_docker_container_funcs.go,
 * sends restart, max_retry_count, cpu_shares, memory, memory_reservation, cpu_set, memory_swap).
 */

export type Scalar = "string" | "int" | "bool";

export interface Field {
  /** list: ordered strings; set: unordered strings; block: one object (MaxItems 1); blocks: a set of objects. */
  readonly type: Scalar | "list" | "set" | "map" | "block" | "blocks";
  readonly fn?: true;
  readonly computed?: true;
  readonly default?: string | number | boolean;
  readonly emptyIsOld?: true;
  readonly fields?: Readonly<Record<string, Field>>;
}

export interface ResourceSchema {
  /** Fields Read sets (some only in a case readContainer names); diffed against the read-back state. */
  readonly read: Readonly<Record<string, Field>>;
  /** Fields Read never sets: the state keeps what was declared, so they are diffed with the previous inputs. */
  readonly unread: Readonly<Record<string, Field>>;
}

const S = (extra: Omit<Field, "type"> = {}): Field => ({ type: "string", ...extra });
const I = (extra: Omit<Field, "type"> = {}): Field => ({ type: "int", ...extra });
const B = (extra: Omit<Field, "type"> = {}): Field => ({ type: "bool", ...extra });

export const CONTAINER_SCHEMA: ResourceSchema = {
  read: {
    name: S({ fn: true }), // container.go: Required, ForceNew
    image: S({ fn: true }), // container.go: Required, ForceNew
    hostname: S({ fn: true, computed: true }), // container.go: Optional, ForceNew, Computed
    domainname: S({ fn: true }), // container.go: Optional, ForceNew
    command: { type: "list", fn: true, computed: true }, // container.go: Optional, ForceNew, Computed
    entrypoints: { type: "list", fn: true, computed: true }, // container.go `entrypoint`: Optional, ForceNew, Computed
    user: S({ fn: true, emptyIsOld: true }), // container.go: Optional, ForceNew, DiffSuppressFunc
    workingDir: S({ fn: true, emptyIsOld: true }), // container.go: Optional, ForceNew, DiffSuppressFunc
    dns: { type: "set", fn: true }, // container.go: Optional, ForceNew
    dnsOpts: { type: "set", fn: true }, // container.go: Optional, ForceNew
    dnsSearches: { type: "set", fn: true }, // container.go `dns_search`: Optional, ForceNew
    securityOpts: { type: "set", fn: true, computed: true }, // container.go: Optional, ForceNew, Computed
    publishAllPorts: B({ fn: true }), // container.go: Optional, ForceNew
    restart: S({ default: "no" }), // container.go: Optional, Default "no"
    maxRetryCount: I(), // container.go: Optional
    init: B({ computed: true }), // container.go: Optional, Computed
    capabilities: {
      type: "block", // container.go: Set, MaxItems 1, Optional, ForceNew
      fn: true,
      fields: { adds: { type: "set", fn: true }, drops: { type: "set", fn: true } }, // container.go `add`/`drop`: Optional, ForceNew
    },
    runtime: S({ fn: true, computed: true }), // container.go: Optional, ForceNew, Computed
    platform: S({ fn: true, computed: true }), // container.go: Optional, ForceNew, Computed
    tmpfs: { type: "map" }, // container.go: Map, Optional (not ForceNew)
    hosts: { type: "blocks", fn: true, fields: { host: S({ fn: true }), ip: S({ fn: true }) } }, // container.go `host`: Optional, ForceNew
    ulimits: { type: "blocks", fn: true, fields: { name: S({ fn: true }), soft: I({ fn: true }), hard: I({ fn: true }) } }, // container.go `ulimit`: Optional, ForceNew
    privileged: B({ fn: true }), // container.go: Optional, ForceNew
    memory: I(), // container.go: Optional
    memoryReservation: I({ default: 0 }), // container.go: Optional, Default 0
    memorySwap: I(), // container.go: Optional
    shmSize: I({ fn: true, computed: true }), // container.go: Optional, ForceNew, Computed
    cpus: S({ fn: true }), // container.go: Optional, ForceNew
    cpuShares: I(), // container.go: Optional
    cpuSet: S(), // container.go: Optional
    logDriver: S({ fn: true, computed: true }), // container.go: Optional, ForceNew, Computed
    logOpts: { type: "map", fn: true }, // container.go: Optional, ForceNew
    storageOpts: { type: "map", fn: true }, // container.go: Optional, ForceNew
    networkMode: S({ fn: true, default: "bridge" }), // container.go: Optional, ForceNew, Default "bridge"
    pidMode: S({ fn: true }), // container.go: Optional, ForceNew
    usernsMode: S({ fn: true }), // container.go: Optional, ForceNew
    healthcheck: {
      type: "block", // container.go: List, MaxItems 1, Optional, Computed (nested fields not ForceNew)
      computed: true,
      fields: {
        tests: { type: "list" }, // container.go `test`: Optional
        interval: S({ default: "0s" }), // container.go: Optional, Default "0s"
        timeout: S({ default: "0s" }), // container.go: Optional, Default "0s"
        startPeriod: S({ default: "0s" }), // container.go: Optional, Default "0s"
        startInterval: S({ default: "0s" }), // container.go: Optional, Default "0s"
        retries: I({ default: 0 }), // container.go: Optional, Default 0
      },
    },
    sysctls: { type: "map", fn: true }, // container.go: Optional, ForceNew
    ipcMode: S({ fn: true, computed: true }), // container.go: Optional, ForceNew, Computed
    groupAdds: { type: "set", fn: true }, // container.go `group_add`: Optional, ForceNew
    tty: B({ fn: true, default: false }), // container.go: Optional, ForceNew, Default false
    stdinOpen: B({ fn: true, default: false }), // container.go: Optional, ForceNew, Default false
    stopSignal: S({ fn: true, computed: true }), // container.go: Optional, ForceNew, Computed
    stopTimeout: I({ fn: true, computed: true }), // container.go: Optional, ForceNew, Computed
    rm: B({ default: false }), // container.go: Optional, Default false
    readOnly: B({ fn: true, default: false }), // container.go `read_only`: Optional, ForceNew, Default false
    mounts: {
      type: "blocks", // container.go: Set, Optional, ForceNew; read by getDockerContainerMounts (resource_docker_container_structures.go)
      fn: true,
      fields: {
        target: S(), // container.go: Required
        source: S(), // container.go: Optional
        type: S(), // container.go: Required
        readOnly: B(), // container.go `read_only`: Optional
        bindOptions: { type: "blocks" }, // container.go `bind_options`: List, MaxItems 1, Optional
        volumeOptions: {
          type: "blocks", // container.go `volume_options`: List, MaxItems 1, Optional
          fields: {
            noCopy: B(), // container.go `no_copy`: Optional
            labels: { type: "blocks", fields: { label: S(), volume: S() } }, // container.go: Set, Optional
            driverName: S(), // container.go `driver_name`: Optional
            driverOptions: { type: "map" }, // container.go `driver_options`: Optional
            subpath: S(), // container.go: Optional
          },
        },
        tmpfsOptions: { type: "blocks" }, // container.go `tmpfs_options`: List, MaxItems 1, Optional
      },
    },
  },
  unread: {
    envs: { type: "set", fn: true, computed: true }, // container.go `env`: Optional, ForceNew, Computed
    labels: { type: "blocks", fn: true, computed: true }, // container.go: Optional, ForceNew, Computed
    uploads: { type: "blocks", fn: true }, // container.go `upload`: Optional, ForceNew
    networksAdvanced: { type: "blocks", fn: true }, // container.go: Optional, ForceNew (read only while empty)
    mustRun: B({ default: true }), // container.go: Optional, Default true
    start: B({ default: true }), // container.go: Optional, Default true
    wait: B({ default: false }), // container.go: Optional, Default false
    waitTimeout: I({ default: 60 }), // container.go: Optional, Default 60
    attach: B({ default: false }), // container.go: Optional, Default false
    logs: B({ default: false }), // container.go: Optional, Default false
    removeVolumes: B({ default: true }), // container.go: Optional, Default true
    destroyGraceSeconds: I(), // container.go: Optional
    containerReadRefreshTimeoutMilliseconds: I({ default: 15000 }), // container.go: Optional, Default 15000 (resource_docker_container_funcs.go)
    cpuPeriod: I(), // container.go: Optional
    cpuQuota: I(), // container.go: Optional
    // read back by the provider but not modelled here (the component sets none of them): compared with the previous inputs
    volumes: { type: "blocks", fn: true }, // container.go: Optional, ForceNew (Read leaves it: "// volumes")
    ports: { type: "blocks", fn: true }, // container.go: List, Optional, ForceNew
    devices: { type: "blocks", fn: true }, // container.go: Optional, ForceNew
    gpus: S({ fn: true }), // container.go: Optional, ForceNew
    deviceRequests: { type: "blocks", fn: true }, // container.go: Optional, ForceNew
    deviceReadBps: { type: "blocks" }, // container.go: Optional
    deviceReadIops: { type: "blocks" }, // container.go: Optional
    deviceWriteBps: { type: "blocks" }, // container.go: Optional
    deviceWriteIops: { type: "blocks" }, // container.go: Optional
    cgroupnsMode: S({ fn: true }), // container.go: Optional, ForceNew
    cgroupParent: S({ fn: true }), // container.go: Optional, ForceNew
  },
};

/** internal/provider/resource_docker_volume.go at 5074970c: every field ForceNew; Read sets name, labels, driver, driver_opts. */
export const VOLUME_SCHEMA: ResourceSchema = {
  read: {
    name: S({ fn: true, computed: true }), // volume.go: Optional, Computed, ForceNew
    labels: { type: "blocks", fn: true, fields: { label: S({ fn: true }), value: S({ fn: true }) } }, // volume.go: Optional, ForceNew; helpers.go labelSchema
    driver: S({ fn: true, computed: true }), // volume.go: Optional, Computed, ForceNew
    driverOpts: { type: "map", fn: true }, // volume.go `driver_opts`: Optional, ForceNew
  },
  unread: {},
};

export const NETWORK_SCHEMA: ResourceSchema = {
  read: {
    name: S({ fn: true }), // network.go: Required, ForceNew
    labels: { type: "blocks", fn: true, fields: { label: S({ fn: true }), value: S({ fn: true }) } }, // network.go: Optional, ForceNew; helpers.go labelSchema: Required, ForceNew
    driver: S({ fn: true, computed: true }), // network.go: Optional, ForceNew, Computed
    options: { type: "map", fn: true, computed: true }, // network.go: Optional, ForceNew, Computed
    internal: B({ fn: true, computed: true }), // network.go: Optional, ForceNew, Computed
    attachable: B({ fn: true }), // network.go: Optional, ForceNew
    ingress: B({ fn: true }), // network.go: Optional, ForceNew
    ipv6: B({ fn: true }), // network.go: Optional, ForceNew
    ipamDriver: S({ fn: true, default: "default" }), // network.go: Optional, ForceNew, Default "default"
    ipamOptions: { type: "map", fn: true }, // network.go: Optional, ForceNew
    ipamConfigs: {
      type: "blocks", // network.go `ipam_config`: Optional, ForceNew, Computed
      fn: true,
      computed: true,
      fields: { subnet: S({ fn: true }), ipRange: S({ fn: true }), gateway: S({ fn: true }), auxAddress: { type: "map", fn: true } }, // network.go: Optional, ForceNew
    },
  },
  unread: {},
};

/** Fields whose values are never secret: the only ones a change may show. */
export const SHOWN_FIELDS: ReadonlySet<string> = new Set([
  "cpus", "memory", "memorySwap", "memoryReservation", "shmSize", "cpuShares", "cpuSet", "user", "workingDir",
  "restart", "maxRetryCount", "networkMode", "init", "privileged", "readOnly", "rm", "ipcMode", "logDriver",
  "stopSignal", "stopTimeout", "mustRun", "healthcheck.interval", "healthcheck.timeout", "healthcheck.startPeriod",
  "healthcheck.startInterval", "healthcheck.retries", "internal", "driver", "ipamDriver", "ipv6", "attachable", "ingress",
]);

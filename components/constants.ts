/**
 * Fixed facts of a bottle, shared by the planner and its tests. The proxy side reads the same
 * paths and variable names (its contract), so change them only together with `proxy/`.
 */

/** Where the egress proxy reads its files (the seed's paths, kept). */
export const PROXY_DIR = "/etc/egress-proxy";
export const PROXY_ROUTES_FILE = `${PROXY_DIR}/routes.yaml`;
export const PROXY_CA_CERT_FILE = `${PROXY_DIR}/ca.pem`;
export const PROXY_UPSTREAM_CA_FILE = `${PROXY_DIR}/upstream-ca.pem`;

/** The proxy's uid:gid, also the image's USER (proxy/Dockerfile); not the agent's 10001. */
export const PROXY_USER = "10002:10002";

/** The proxy's name on the internal network, and its port there. */
export const PROXY_ALIAS = "egress-proxy";
export const PROXY_PORT = 8080;
export const PROXY_URL = `http://${PROXY_ALIAS}:${PROXY_PORT}`;
/** Health listener: loopback only, for the Docker healthcheck inside the container. */
export const PROXY_HEALTH_LISTEN = "127.0.0.1:9090";
/**
 * Connections and tunnels idle this long are closed, by the proxy and by the bottle's pipelock
 * alike (one number, so neither cuts what the other keeps); SSE streams send keep-alives well
 * within it.
 */
export const TUNNEL_IDLE_TIMEOUT_SECONDS = 600;
export const PROXY_HEALTHCHECK = ["CMD", "node", "/app/dist/healthcheck.js"];
/** Prefix of the token slots; slot n is `${TOKEN_SLOT_PREFIX}${n}`. */
export const TOKEN_SLOT_PREFIX = "EGRESS_PROXY_TOKEN_";

/**
 * The only resolver of a container that needs no outside name: its own loopback. On Docker the
 * engine's embedded resolver (127.0.0.11) still answers the names of the container's networks
 * (`egress-proxy`, `pipelock`) and forwards every other query to this address from inside the
 * container's own network namespace, where nothing answers. Left to the host's resolvers, an
 * engine before 26.0.0 / 25.0.4 / 23.0.11 forwards from the host's namespace when the host's
 * resolver is on loopback (127.0.0.53), even for a container on `internal` networks only
 * (CVE-2024-29018): a DNS channel out of the bottle. Kubernetes Pods get the same address.
 */
export const NO_OUTSIDE_RESOLVER = "127.0.0.1";

/** The bottle CA as the agent sees it. */
export const AGENT_CA_FILE = "/etc/bot-bottle/ca.pem";
/** The same CA as a Java trust store (PKCS12, no password: java-truststore.ts). */
/**
 * A file the workspace init step puts in a new Docker volume. While a volume is empty, the engine
 * copies the mount point of each container that mounts it into it at start, its owner
 * included, and that mount point is root's: the agent's first start would give the workspace
 * back to root. The mount option that turns the copy off (`volumeOptions.noCopy`) is refused
 * by the Docker provider on engines before API 1.45 (Debian 12's 20.10 included), so the
 * volume is made non-empty instead.
 */
export const WORKSPACE_MARKER_FILE = ".bot-bottle-workspace";
export const AGENT_JAVA_TRUSTSTORE_FILE = "/etc/bot-bottle/ca.p12";
/** The CA's entry name in that store (`keytool -list` shows it). */
export const JAVA_TRUSTSTORE_ALIAS = "bot-bottle-ca";

/** pipelock as a container of the bottle: alias on the egress network, port, config path. */
export const PIPELOCK_ALIAS = "pipelock";
export const PIPELOCK_PORT = 8888;
export const PIPELOCK_CONFIG_FILE = "/etc/pipelock/pipelock.yaml";
/**
 * pipelock's health endpoint is served on its main listener only (`--listen 0.0.0.0:8888`), so
 * the healthcheck asks it over loopback inside the container with pipelock's own `healthcheck`
 * subcommand (`--addr`, pipelock v2.3.0 `internal/cli/runtime/healthcheck.go`; its own image
 * uses the same). Durations as the Docker provider reads them back (Go durations).
 */
export const PIPELOCK_HEALTHCHECK = ["CMD", "/pipelock", "healthcheck", "--addr", `127.0.0.1:${PIPELOCK_PORT}`];
export const PIPELOCK_HEALTHCHECK_TIMING = { interval: "10s", timeout: "3s", retries: 3, startPeriod: "5s" } as const;
/**
 * `metrics_listen`: `/metrics` and `/stats` move to this loopback address instead of being served
 * on every network pipelock sits on. The port must differ from PIPELOCK_PORT (pipelock refuses a
 * collision).
 */
export const PIPELOCK_METRICS_LISTEN = "127.0.0.1:9090";
/**
 * pipelock's `fetch_proxy.monitoring.max_requests_per_minute` limits new CONNECT tunnels per
 * registrable domain in a sliding minute (default 60; 0 or less is reset to 60, there is no
 * "off"): pipelock v2.3.0 `internal/config/schema.go` (`Monitoring`), `normalize.go`,
 * `internal/scanner/ratelimit.go`. The egress proxy keeps at most 32 upstream tunnels per origin
 * (MAX_TUNNELS_PER_ORIGIN in proxy/src/transport/upstream-agents.ts), reuses idle ones and closes one
 * unused for 4 s, so its worst case is 32 × (60/4 + 1) = 512 new tunnels a minute per host; 600
 * leaves a margin for tunnels cut by `max_tunnel_seconds` or by the origin.
 */
export const PIPELOCK_TUNNELS_PER_MINUTE_PER_HOST = 600;
/** Bounds of `pipelock.max_tunnels_per_minute`: below pipelock's own 60 bursts fail; above, the limit means nothing. */
export const PIPELOCK_TUNNELS_PER_MINUTE_MIN = 60;
export const PIPELOCK_TUNNELS_PER_MINUTE_MAX = 60_000;
/** Built locally by scripts/pipelock-image.sh (FROM scratch, entrypoint /pipelock). */
export const PIPELOCK_DEFAULT_IMAGE = "bot-bottle/pipelock:2.3.0";
/** The image's own user (scripts/pipelock-image.sh); upstream images run as root without it. */
export const PIPELOCK_USER = "65534:65534";

/** The egress-proxy image, built from ./proxy and never pushed. */
export const PROXY_DEFAULT_IMAGE_NAME = "bot-bottle/egress-proxy:local";

/** Agent defaults: a non-root uid that base images here create (scripts/base-image.sh). */
export const AGENT_DEFAULT_USER = "10001";
/** Keeps the agent container alive so that `docker exec` can enter it. */
export const AGENT_DEFAULT_COMMAND = ["sleep", "infinity"];
/** The agent's workspace: where it is mounted by default, and the variable that names it. */
export const WORKSPACE_DEFAULT_PATH = "/workspace";
export const WORKSPACE_ENV = "BOT_BOTTLE_WORKSPACE";
/** Kubernetes: the claim's request when `size_gb` is absent. */
export const WORKSPACE_DEFAULT_SIZE_GB = 10;
export const AGENT_DEFAULT_LIMITS = { memory_mb: 2048, cpus: 2, pids: 512 } as const;
/** The proxy buffers little (streaming), but TLS to many hosts costs memory. */
export const PROXY_LIMITS = { memory_mb: 512, cpus: 1 } as const;
export const PIPELOCK_LIMITS = { memory_mb: 256, cpus: 1 } as const;
/** Long SSE streams outlive pipelock's default 300 s tunnel cap. */
export const PIPELOCK_DEFAULT_MAX_TUNNEL_SECONDS = 3600;

/** Label keys on every Docker object of a bottle: `docker ps -a --filter label=...`. */
export const LABEL_BOTTLE = "bot-bottle.bottle";
export const LABEL_ROLE = "bot-bottle.role";
export const LABEL_MANAGED = "bot-bottle.managed";

/** Docker names: `bb-<bottle>-<role>`. */
export const DOCKER_NAME_PREFIX = "bb";
/** Pulumi config namespace (the project name in Pulumi.yaml). */
export const CONFIG_NAMESPACE = "bot-bottle";

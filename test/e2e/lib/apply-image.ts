/**
 * `docker:index/image:Image` with `skipPush: true`: a local `docker build` of the context, as the
 * Docker provider does it, with the legacy builder and no network (nothing can be pulled here).
 *
 * Cache: the build is skipped when the tagged image carries the content hash of the context,
 * the Dockerfile and the build args (label `bot-bottle.e2e.build-hash`). The label is the only
 * thing this adds to what the provider would build.
 */
import { createHash } from "node:crypto";
import { lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import path from "node:path";
import { docker, inspect } from "./docker-cli";
import type { Applied } from "./apply-network";
import type { StrictInputs } from "./strict-inputs";

export const BUILD_HASH_LABEL = "bot-bottle.e2e.build-hash";

/** sha256 over every path, file and symlink under `dir`, in a stable order. */
export function hashTree(dir: string, hash = createHash("sha256"), rel = ""): ReturnType<typeof createHash> {
  for (const entry of readdirSync(path.join(dir, rel)).sort()) {
    const relPath = path.posix.join(rel, entry);
    const full = path.join(dir, relPath);
    const st = lstatSync(full);
    if (st.isDirectory()) {
      hash.update(`d ${relPath}\0`);
      hashTree(dir, hash, relPath);
    } else if (st.isSymbolicLink()) {
      hash.update(`l ${relPath}\0${readlinkSync(full)}\0`);
    } else if (st.isFile()) {
      hash.update(`f ${relPath} ${st.mode & 0o777}\0`);
      hash.update(readFileSync(full));
    }
  }
  return hash;
}

/** Build `tag` from `context` unless an image with the same content hash exists; returns whether it built. */
export async function buildCached(tag: string, context: string, dockerfile: string, buildArgs: Record<string, string>): Promise<boolean> {
  const hash = hashTree(context);
  hash.update(`dockerfile\0${readFileSync(dockerfile)}\0`);
  for (const [k, v] of Object.entries(buildArgs).sort()) hash.update(`arg ${k}=${v}\0`);
  const digest = hash.digest("hex");
  const existing = await inspect("image", tag);
  const labels = ((existing?.Config as { Labels?: Record<string, string> } | undefined)?.Labels ?? {}) as Record<string, string>;
  if (labels[BUILD_HASH_LABEL] === digest) return false;
  const args = ["build", "--network", "none", "--label", `${BUILD_HASH_LABEL}=${digest}`, "-t", tag, "-f", dockerfile];
  for (const [k, v] of Object.entries(buildArgs)) args.push("--build-arg", `${k}=${v}`);
  await docker([...args, context], { timeoutMs: 300_000 });
  // the image this build replaced is now untagged: remove it if it was ours and nothing uses it
  const previous = existing?.Id as string | undefined;
  if (previous && labels[BUILD_HASH_LABEL] !== undefined) await docker(["rmi", previous], { allowFailure: true, timeoutMs: 60_000 });
  return true;
}

export async function applyImage(inputs: StrictInputs): Promise<Applied> {
  const imageName = inputs.string("imageName");
  // this suite never pushes: a push would leave the machine
  inputs.expect("skipPush", [true]);
  // the SDK's default; there is no preview here
  inputs.expect("buildOnPreview", [undefined, false]);
  const build = inputs.optObject("build");
  if (!build) throw new Error(`${inputs.where}: input \`build\` is missing; the e2e applier only builds local images`);
  const context = path.resolve(build.optString("context") ?? ".");
  // the provider resolves a relative Dockerfile against the working directory, not the context
  const dockerfile = path.resolve(build.optString("dockerfile") ?? path.join(context, "Dockerfile"));
  const buildArgs = build.optStringMap("args") ?? {};
  build.done();
  inputs.done();
  await buildCached(imageName, context, dockerfile, buildArgs);
  const built = await inspect("image", imageName);
  if (typeof built?.Id !== "string") throw new Error(`${inputs.where}: the build left no image ${imageName}`);
  // the provider's outputs for a skipPush build; since provider v4.4 `repoDigest` of a local
  // image is its image id (sha256:…), per the 5.2.0 SDK docs
  return {
    id: imageName,
    state: {
      imageName,
      repoDigest: built.Id,
      baseImageName: imageName,
      context,
      dockerfile: path.relative(context, dockerfile),
      registryServer: "",
    },
  };
}

/**
 * The egress-proxy image, built once per stack from ./proxy and never pushed.
 *
 * The build context must be prepared on the host first: `npm install` at the repository root
 * installs proxy/node_modules (its postinstall runs `npm --prefix proxy install`), and
 * `npm run build:proxy` compiles proxy/dist. The Dockerfile copies both, so the build needs no
 * registry access beyond its base image; offline machines pass a local base image
 * (`bot-bottle:proxyBaseImage`, e.g. bot-bottle/base:bookworm from scripts/base-image.sh).
 */
import * as path from "node:path";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";

export interface ProxyImageArgs {
  /** Local image name, e.g. bot-bottle/egress-proxy:local. */
  readonly imageName: string;
  /** Value of the Dockerfile's `ARG BASE_IMAGE`; the Dockerfile's default when absent. */
  readonly baseImage?: string;
  /** The build context; defaults to this repository's ./proxy. */
  readonly context?: string;
}

/** The default build context: ./proxy next to components/. */
export const PROXY_CONTEXT = path.resolve(__dirname, "..", "proxy");

/** Declare the image; returns it and the reference containers should run. */
export function declareProxyImage(args: ProxyImageArgs, opts?: pulumi.CustomResourceOptions): { image: docker.Image; ref: pulumi.Output<string> } {
  const context = args.context ?? PROXY_CONTEXT;
  const image = new docker.Image(
    "egress-proxy-image",
    {
      imageName: args.imageName,
      skipPush: true,
      build: {
        context,
        dockerfile: path.join(context, "Dockerfile"),
        ...(args.baseImage !== undefined ? { args: { BASE_IMAGE: args.baseImage } } : {}),
      },
    },
    opts,
  );
  // the image id (repoDigest of a local build) changes with every rebuild, so containers are
  // replaced when the proxy changes; the tag alone would not do that
  const ref = pulumi.all([image.repoDigest, image.imageName]).apply(([digest, name]) => digest || name);
  return { image, ref };
}

/**
 * What transport reads about an agent's connection, as interfaces transport owns. The library
 * glue (mockttp/internals.ts) implements them and egress-proxy.ts passes them in, so transport
 * never imports the library's private parts and the folders depend one way: mockttp -> transport.
 */
import type { Socket } from "node:net";

/** What the TLS and tunnel layer recorded about the connection a request came on. */
export interface ConnectionFacts {
  connectAuthority: string | undefined;
  sni: string | undefined;
  encrypted: boolean;
}

/** Reads the facts of a connection and the tunnels under it. */
export interface ConnectionView {
  facts(socket: object): ConnectionFacts;
  /** A socket and the tunnel sockets under it, innermost first. */
  tunnelChain(socket: Socket): Socket[];
}

/** Emits every accepted socket and every socket unwrapped from a tunnel. */
export interface ConnectionSource {
  on(event: "connection", cb: (s: Socket) => void): void;
}

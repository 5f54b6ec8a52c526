/** The slice of mockttp's request object that our code reads: its `OngoingRequest` plus the socket. */
import type { Socket } from "node:net";
import type { OngoingRequest } from "mockttp";

export type MockttpRequest = OngoingRequest & { socket: Socket };

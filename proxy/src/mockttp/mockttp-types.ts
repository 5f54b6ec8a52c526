/**
 * The slice of mockttp's request object that our code reads: its `OngoingRequest`, which is the
 * Node request itself, plus the socket and `complete` (the whole body has arrived).
 */
import type { Socket } from "node:net";
import type { OngoingRequest } from "mockttp";

export type MockttpRequest = OngoingRequest & { socket: Socket; readonly complete: boolean };

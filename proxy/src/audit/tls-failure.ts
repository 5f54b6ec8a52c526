/**
 * What a failed TLS handshake with the agent's client says, for its audit line: a short fixed
 * reason, and the alert the client sent when it sent one (RFC 8446 section 6, as OpenSSL names
 * them: `unknown_ca`, `protocol_version`...). Pure: Node's error code and message in, fields out.
 * Nothing of the message is repeated but the alert's name and Node's error code.
 */

export type TlsFailureReason =
  | "client rejected the certificate"
  | "no TLS version in common"
  | "no application protocol in common"
  | "no cipher in common"
  | "client sent an alert"
  | "connection reset during the handshake"
  | "handshake timed out"
  | "handshake failed";

export interface TlsFailure {
  reason: TlsFailureReason;
  /** The alert the client sent, when it sent one. */
  alert?: string;
  /** Node's error code (`ERR_SSL_...`), when it has one. */
  error?: string;
}

/** Alerts a client sends when it does not accept the certificate it was shown. */
const CERTIFICATE_ALERTS = new Set(["unknown_ca", "bad_certificate", "certificate_unknown", "unsupported_certificate", "certificate_expired", "certificate_revoked"]);

/** `ERR_SSL_TLSV1_ALERT_UNKNOWN_CA`: OpenSSL's name of a received alert. */
const ALERT_CODE = /^ERR_SSL_(?:SSLV3|TLSV1|TLSV13)_ALERT_([A-Z_]{1,40})$/;
/** `...:tlsv1 alert unknown ca:...`: the same in the message, for codes Node does not name. */
const ALERT_TEXT = /(?:sslv3|tlsv1|tlsv13) alert ([a-z ]{1,40}?)(?::|$)/;
const NODE_CODE = /^[A-Z0-9_]{1,64}$/;

/** The fields of one failure: from the error's `code` and `message` as Node's TLS server reports them. */
export function describeTlsFailure(code: string | undefined, message: string): TlsFailure {
  const alert = ALERT_CODE.exec(code ?? "")?.[1]?.toLowerCase() ?? ALERT_TEXT.exec(message)?.[1]?.replace(/ /g, "_");
  const error = code !== undefined && NODE_CODE.test(code) ? code : undefined;
  const fields = (reason: TlsFailureReason): TlsFailure => ({ reason, ...(alert ? { alert } : {}), ...(error ? { error } : {}) });
  if (alert !== undefined && CERTIFICATE_ALERTS.has(alert)) return fields("client rejected the certificate");
  if (code === "ERR_SSL_UNSUPPORTED_PROTOCOL" || alert === "protocol_version") return fields("no TLS version in common");
  if (code === "ERR_SSL_NO_APPLICATION_PROTOCOL" || alert === "no_application_protocol") return fields("no application protocol in common");
  if (code === "ERR_SSL_NO_SHARED_CIPHER") return fields("no cipher in common");
  if (alert !== undefined) return fields("client sent an alert");
  if (code === "ECONNRESET") return fields("connection reset during the handshake");
  if (code === "ERR_TLS_HANDSHAKE_TIMEOUT") return fields("handshake timed out");
  return fields("handshake failed");
}

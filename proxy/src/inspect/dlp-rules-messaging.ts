/**
 * Request-inspection rules of messaging services' tokens and webhook URLs (a webhook URL is its
 * own credential), from the services' published formats.
 */
import { ci, END, placeholderTail, START, type DlpRule } from "./dlp-rule";

/** A Discord bot token's first part is the bot's user id (17 to 20 digits) in base64. */
function discordIdPart(token: string): boolean {
  const id = Buffer.from(token.slice(0, token.indexOf(".")), "base64url").toString("latin1");
  return /^[0-9]{17,20}$/.test(id);
}

export const MESSAGING_RULES = [
  {
    id: "slack-token",
    family: "messaging",
    finds: "Slack tokens (`xoxb-`, `xoxp-`, `xoxa-`, `xoxe-`... and `xapp-` app tokens)",
    pattern: "(?<![A-Za-z0-9-])(?:xox[abposre](?:\\.xox[abposre])?-[A-Za-z0-9-]{10,255}|xapp-[0-9]-[A-Z0-9]{6,32}-[0-9]{6,20}-[a-f0-9]{32,80})",
    anchors: ["xoxa-", "xoxb-", "xoxp-", "xoxo-", "xoxs-", "xoxr-", "xoxe-", "xoxe.", "xapp-"],
    valid: (m) => /[0-9]/.test(m[0]) && !placeholderTail(m[0]),
  },
  {
    id: "slack-webhook",
    family: "messaging",
    finds: "Slack incoming webhook and workflow URLs (`hooks.slack.com/services/T.../B.../...`)",
    pattern: `${ci("hooks.slack.com")}/(?:services/T[A-Z0-9]{1,32}/B[A-Z0-9]{1,32}|(?:workflows|triggers)/T[A-Z0-9]{1,32}/[A-Z0-9]{1,32}/[0-9]{1,32})/[A-Za-z0-9]{20,64}`,
    anchors: ["hooks.slack.com/"],
  },
  {
    id: "discord-webhook",
    family: "messaging",
    finds: "Discord webhook URLs (`discord.com/api/webhooks/<id>/<68>`)",
    pattern: `${ci("discord")}(?:${ci("app")})?\\.${ci("com")}/api/webhooks/[0-9]{17,20}/[A-Za-z0-9_-]{60,68}`,
    anchors: ["discord.com/api/webhooks/", "discordapp.com/api/webhooks/"],
  },
  {
    id: "discord-bot-token",
    family: "messaging",
    finds: "Discord bot tokens (the bot's id in base64, `.`, 6, `.`, 27 or more)",
    pattern: `${START}[MNO][A-Za-z0-9_-]{23,27}\\.[A-Za-z0-9_-]{6}\\.[A-Za-z0-9_-]{27,40}${END}`,
    valid: (m) => discordIdPart(m[0]),
    needs: "dotted",
  },
  {
    id: "telegram-bot-token",
    family: "messaging",
    finds: "Telegram bot tokens (8 to 10 digits, `:AA`, 33)",
    pattern: `(?<![0-9])[0-9]{8,10}:AA[A-Za-z0-9_-]{33}${END}`,
    anchors: [":aa"],
  },
  {
    id: "twilio-key",
    family: "messaging",
    finds: "Twilio API key secrets' ids (`SK` + 32 hex) and 32-hex auth tokens assigned to a `twilio` name",
    pattern: `(?<![A-Za-z0-9])SK[0-9a-f]{32}(?![A-Za-z0-9])|${ci("twilio")}[A-Za-z0-9_.-]{0,24}["']?[ \\t]{0,4}[:=][ \\t]{0,4}["']?[0-9a-f]{32}(?![0-9a-f])`,
    anchors: ["sk", "twilio"],
  },
  {
    id: "sendgrid-key",
    family: "messaging",
    finds: "SendGrid API keys (`SG.` + 22 + `.` + 43)",
    pattern: "SG\\.[A-Za-z0-9_-]{22}\\.[A-Za-z0-9_-]{43}",
    anchors: ["sg."],
  },
  {
    id: "mailgun-key",
    family: "messaging",
    finds: "Mailgun API keys (`key-` + 32 hex)",
    pattern: `${START}key-[0-9a-f]{32}${END}`,
    anchors: ["key-"],
  },
  {
    id: "mailchimp-key",
    family: "messaging",
    finds: "Mailchimp API keys (32 hex + `-us` + data centre number)",
    pattern: "(?<![A-Za-z0-9])[0-9a-f]{32}-us[0-9]{1,2}(?![A-Za-z0-9])",
    anchors: ["-us"],
  },
  {
    id: "teams-webhook",
    family: "messaging",
    finds: "Microsoft Teams incoming webhook URLs (`webhook.office.com/webhookb2/...`)",
    pattern: `${ci("webhook.office.com")}/webhookb2/[A-Za-z0-9@/_-]{60,400}`,
    anchors: ["webhook.office.com/webhookb2/"],
  },
] as const satisfies readonly DlpRule[];

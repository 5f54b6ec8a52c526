/** Request-inspection rules of payment providers' secret keys, from their published formats. */
import { END, START, type DlpRule } from "./dlp-rule";

export const PAYMENT_RULES = [
  {
    id: "stripe-key",
    family: "payment",
    finds: "Stripe secret and restricted keys (`sk_live_`, `rk_live_`, `sk_test_`, `rk_test_` + 24 or more)",
    pattern: "(?<![A-Za-z0-9_])(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{24,255}",
    anchors: ["sk_live_", "rk_live_", "sk_test_", "rk_test_"],
  },
  {
    id: "stripe-webhook-secret",
    family: "payment",
    finds: "Stripe webhook signing secrets (`whsec_` + 32 or more)",
    pattern: `${START}whsec_[A-Za-z0-9]{32,64}${END}`,
    anchors: ["whsec_"],
  },
  {
    id: "square-token",
    family: "payment",
    finds: "Square access tokens (`EAAA` + 60, `sq0atp-` + 22) and application secrets (`sq0csp-` + 43)",
    // `EAAA` starts many a base64 run: only a run of exactly 64 counts
    pattern: "(?<![A-Za-z0-9+/_-])EAAA[A-Za-z0-9_-]{60}(?![A-Za-z0-9+/=_-])|sq0atp-[A-Za-z0-9_-]{22}|sq0csp-[A-Za-z0-9_-]{43}",
    anchors: ["eaaa", "sq0atp-", "sq0csp-"],
  },
  {
    id: "braintree-token",
    family: "payment",
    finds: "PayPal Braintree access tokens (`access_token$production$...`)",
    pattern: "access_token\\$production\\$[a-z0-9]{16}\\$[a-f0-9]{32}",
    anchors: ["access_token$production$"],
  },
  {
    id: "shopify-token",
    family: "payment",
    finds: "Shopify access tokens and shared secrets (`shpat_`, `shpca_`, `shppa_`, `shpss_` + 32 hex)",
    pattern: "shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}",
    anchors: ["shpat_", "shpca_", "shppa_", "shpss_"],
  },
  {
    id: "flutterwave-key",
    family: "payment",
    finds: "Flutterwave secret keys (`FLWSECK-` or `FLWSECK_TEST-` + 32 hex + `-X`)",
    pattern: "FLWSECK(?:_TEST)?-[a-f0-9]{32}-X",
    anchors: ["flwseck"],
  },
] as const satisfies readonly DlpRule[];

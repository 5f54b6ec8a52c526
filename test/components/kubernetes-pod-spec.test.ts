/** The unit conversions between the plan (Docker's forms) and a Pod spec. */
import * as assert from "node:assert/strict";
import { cpuQuantity, seconds } from "../../components/kubernetes/pod-spec";

describe("Kubernetes Pod spec conversions", () => {
  it("reads the plan's Go durations as whole seconds, at least one", () => {
    assert.deepEqual(["10s", "3s", "1m30s", "1h", "500ms", "0s"].map(seconds), [10, 3, 90, 3600, 1, 1]);
  });

  it("writes CPUs as millicores, from the text Docker's provider reads back", () => {
    assert.deepEqual(["2.0", "10.", "1.5", "0.5", "0.1"].map(cpuQuantity), ["2000m", "10000m", "1500m", "500m", "100m"]);
  });
});

/**
 * Reads a resource's inputs field by field and fails on anything it was not asked for, so that
 * an input the component starts to use cannot be silently ignored by the e2e applier. Messages
 * name fields and types, never values (inputs may hold tokens or keys).
 */

type Json = Record<string, unknown>;

function typeName(v: unknown): string {
  return Array.isArray(v) ? "array" : v === null ? "null" : typeof v;
}

export class StrictInputs {
  private readonly used = new Set<string>();

  constructor(
    /** e.g. `docker:index/container:Container bb-dev-agent`: prefixes every message. */
    readonly where: string,
    private readonly values: Json,
  ) {}

  private fail(field: string, what: string): never {
    throw new Error(`${this.where}: input \`${field}\` ${what}; teach test/e2e/lib what it means or stop using it`);
  }

  private take(field: string): unknown {
    this.used.add(field);
    return this.values[field];
  }

  has(field: string): boolean {
    return this.values[field] !== undefined;
  }

  optString(field: string): string | undefined {
    const v = this.take(field);
    if (v === undefined) return undefined;
    if (typeof v !== "string") this.fail(field, `is a ${typeName(v)}, expected a string`);
    return v;
  }

  string(field: string): string {
    const v = this.optString(field);
    if (v === undefined) this.fail(field, "is missing");
    return v;
  }

  optNumber(field: string): number | undefined {
    const v = this.take(field);
    if (v === undefined) return undefined;
    if (typeof v !== "number" || !Number.isFinite(v)) this.fail(field, `is a ${typeName(v)}, expected a number`);
    return v;
  }

  optBool(field: string): boolean | undefined {
    const v = this.take(field);
    if (v === undefined) return undefined;
    if (typeof v !== "boolean") this.fail(field, `is a ${typeName(v)}, expected a boolean`);
    return v;
  }

  optStrings(field: string): string[] | undefined {
    const v = this.take(field);
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.some((s) => typeof s !== "string")) this.fail(field, `is a ${typeName(v)}, expected a list of strings`);
    return v as string[];
  }

  optStringMap(field: string): Record<string, string> | undefined {
    const v = this.take(field);
    if (v === undefined) return undefined;
    if (typeName(v) !== "object" || Object.values(v as Json).some((s) => typeof s !== "string")) {
      this.fail(field, `is a ${typeName(v)}, expected a map of strings`);
    }
    return v as Record<string, string>;
  }

  /** A nested object, read strictly too; the caller must call `done()` on it. */
  optObject(field: string): StrictInputs | undefined {
    const v = this.take(field);
    if (v === undefined) return undefined;
    if (typeName(v) !== "object") this.fail(field, `is a ${typeName(v)}, expected an object`);
    return new StrictInputs(`${this.where} ${field}`, v as Json);
  }

  /** A list of objects, each read strictly; the caller must call `done()` on each. */
  optObjects(field: string): StrictInputs[] | undefined {
    const v = this.take(field);
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.some((o) => typeName(o) !== "object")) this.fail(field, `is a ${typeName(v)}, expected a list of objects`);
    return (v as Json[]).map((o, i) => new StrictInputs(`${this.where} ${field}[${i}]`, o));
  }

  /** Accept a field only with one exact value (e.g. `skipPush: true`). */
  expect(field: string, allowed: readonly unknown[]): void {
    const v = this.take(field);
    if (!allowed.includes(v)) this.fail(field, `has a value this applier does not support (allowed: ${allowed.map(String).join(", ")})`);
  }

  /** Throw if any field was never read. */
  done(): void {
    const unknown = Object.keys(this.values).filter((k) => !this.used.has(k) && this.values[k] !== undefined);
    if (unknown.length > 0) {
      throw new Error(`${this.where}: input(s) ${unknown.map((k) => `\`${k}\``).join(", ")} not understood by the e2e applier; teach test/e2e/lib what they mean`);
    }
  }
}

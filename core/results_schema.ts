/**
 * The results document's JSON Schema (`results.schema.json`, beside the
 * types in `results.ts`; `results_schema_test.ts` keeps the two equal,
 * field for field) and the one validator of a results file against it.
 *
 * @module
 */
import { Ajv } from "ajv";
import schema from "./results.schema.json" with { type: "json" };

/** The results schema (JSON Schema draft-07). */
export const RESULTS_SCHEMA = schema;

let _validate: ReturnType<Ajv["compile"]> | undefined;

/**
 * Every way `doc` does not fit the results schema, as `PATH message` (the
 * document's root is `/`); empty when it fits.
 */
export function resultsSchemaErrors(doc: unknown): string[] {
  _validate ??= new Ajv({ allErrors: true, strict: false }).compile(schema);
  if (_validate(doc)) return [];
  const errors = _validate.errors ?? [];
  return errors.length === 0
    ? ["/ is invalid"]
    : errors.map((e) =>
      `${e.instancePath || "/"} ${e.message ?? "is invalid"}`
    );
}

// Schema validators for the artifacts Stella writes, built on the upstream schemas in fixtures/:
// CycloneDX 1.2–1.7 (Draft-07) and OpenVEX 0.2.0 (Draft 2020-12). They return error strings
// ("<instancePath>: <message>"); an empty list means valid.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv, type ValidateFunction, type ErrorObject } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { THIRD_PARTY } from './cli.js';

// ajv-formats is CommonJS: depending on the loader its default import is the plugin or the module.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv) => Ajv;

const CDX_DIR = path.join(THIRD_PARTY, 'cyclonedx-schema');
export const OPENVEX_SCHEMA_FILE = path.join(THIRD_PARTY, 'vex/openvex-spec/openvex_json_schema.json');

const CDX_SCHEMA_FILES = [
  'spdx.schema.json',
  'jsf-0.82.schema.json',
  'cryptography-defs.schema.json',
  'bom-1.2.schema.json',
  'bom-1.3.schema.json',
  'bom-1.4.schema.json',
  'bom-1.5.schema.json',
  'bom-1.6.schema.json',
  'bom-1.7.schema.json',
];

type Json = Record<string, unknown>;

const readSchema = (file: string): Json => JSON.parse(readFileSync(file, 'utf8')) as Json;

/**
 * JSF 0.82 declares `algorithm` as `oneOf: [enum of JWA names, {format: uri}]`. With format assertion
 * off (as the CycloneDX tooling validates) "ES256" matches both branches, so a strict validator rejects
 * every signed BOM (fixtures/third_party/README.md §2). The intent is "either", i.e. anyOf; the copy in
 * memory is patched, the fixture file is untouched.
 */
function tolerateJsfAlgorithmQuirk(schema: Json): Json {
  const walk = (node: unknown): void => {
    if (node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) return node.forEach(walk);
    const o = node as Json;
    const alg = (o.properties as Json | undefined)?.algorithm as Json | undefined;
    if (alg && Array.isArray(alg.oneOf)) {
      alg.anyOf = alg.oneOf;
      delete alg.oneOf;
    }
    Object.values(o).forEach(walk);
  };
  walk(schema);
  return schema;
}

/** spec version ("1.6") → the `$id` its schema is registered under. */
const cdxIdBySpec = new Map<string, string>();

function buildCdxAjv(formats: boolean): Ajv {
  // strict off: the CycloneDX schemas use annotation keywords ajv does not know (e.g. `meta:enum`).
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: formats });
  if (formats) {
    addFormats(ajv);
    // ajv-formats has no IRI / IDN validators; accept them unchecked rather than warn on every compile.
    for (const f of ['iri', 'iri-reference', 'idn-email', 'idn-hostname']) ajv.addFormat(f, true);
  }
  for (const f of CDX_SCHEMA_FILES) {
    let schema = readSchema(path.join(CDX_DIR, f));
    if (f.startsWith('jsf-')) schema = tolerateJsfAlgorithmQuirk(schema);
    ajv.addSchema(schema);
    const m = /^bom-(\d+\.\d+)\.schema\.json$/.exec(f);
    if (m) cdxIdBySpec.set(m[1], schema.$id as string);
  }
  return ajv;
}

const cdxAjv = { formatsOff: undefined as Ajv | undefined, formatsOn: undefined as Ajv | undefined };
const cdxValidators = new Map<string, ValidateFunction>();

function formatErrors(errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((e) => {
    const extra = e.keyword === 'additionalProperties' ? ` (${(e.params as { additionalProperty: string }).additionalProperty})` : '';
    return `${e.instancePath || '/'}: ${e.message ?? e.keyword}${extra}`;
  });
}

/**
 * Validate a CycloneDX document against the schema of `specVersion` ("1.2" … "1.7"). Format assertion
 * is off by default, as the CycloneDX reference tooling does; `{ formats: true }` turns it on.
 */
export function validateCycloneDx(doc: unknown, specVersion: string, opts: { formats?: boolean } = {}): string[] {
  const key = `${specVersion}:${opts.formats ? 'f' : '-'}`;
  let validate = cdxValidators.get(key);
  if (!validate) {
    const ajv = opts.formats
      ? (cdxAjv.formatsOn ??= buildCdxAjv(true))
      : (cdxAjv.formatsOff ??= buildCdxAjv(false));
    const id = cdxIdBySpec.get(specVersion);
    if (!id) throw new Error(`no CycloneDX schema for specVersion ${specVersion}`);
    const fn = ajv.getSchema(id);
    if (!fn) throw new Error(`CycloneDX schema ${id} not registered`);
    validate = fn;
    cdxValidators.set(key, validate);
  }
  return validate(doc) ? [] : formatErrors(validate.errors);
}

let openVexValidate: ValidateFunction | undefined;

/** Validate an OpenVEX document against openvex_json_schema.json (Draft 2020-12). */
export function validateOpenVex(doc: unknown): string[] {
  if (!openVexValidate) {
    const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
    openVexValidate = ajv.compile(readSchema(OPENVEX_SCHEMA_FILE));
  }
  return openVexValidate(doc) ? [] : formatErrors(openVexValidate.errors);
}

// The problems of a config file's text, each with its place (offset, line:column) and a message
// naming the field: JSON syntax errors, unknown fields (with "did you mean" for a near miss),
// ill-typed values, an unknown preset in `extends`. The trainer refuses a file with any of them
// and the editor shows the same list as errors (extension/configDiagnostics host), so both agree.
import { findNodeAtLocation, parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';
import { z } from 'zod';
import { configFileSchema, dataSchema } from './config';
import { defaultPresetName, presetNamed, presets } from './presets';

export interface ConfigProblem {
  message: string;
  /** Offset and length in the text (BOM excluded), for the editor's squiggle. */
  offset: number;
  length: number;
  /** 1-based. */
  line: number;
  column: number;
}

const syntaxMessages: Record<string, string> = {
  InvalidSymbol: 'invalid symbol', InvalidNumberFormat: 'invalid number', PropertyNameExpected: 'expected a property name in double quotes',
  ValueExpected: 'expected a value', ColonExpected: 'expected ":"', CommaExpected: 'expected ","', CloseBraceExpected: 'expected "}"',
  CloseBracketExpected: 'expected "]"', EndOfFileExpected: 'unexpected text after the end of the JSON value', InvalidCommentToken: 'comments are not allowed in JSON',
  UnexpectedEndOfComment: 'comments are not allowed in JSON', UnexpectedEndOfString: 'unterminated string', UnexpectedEndOfNumber: 'unterminated number',
  InvalidUnicode: 'invalid unicode escape', InvalidEscapeCharacter: 'invalid escape character', InvalidCharacter: 'invalid character in a string',
};

/** Edit distance counting a swap of two neighbours as one edit (optimal string alignment). */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/** The known name closest to `name`, when it is a near miss (case, a typo or two). */
export function didYouMean(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = k.toLowerCase() === name.toLowerCase() ? 0 : editDistance(name, k);
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best !== undefined && bestDistance <= Math.max(1, Math.floor(best.length / 3)) ? best : undefined;
}

type AnySchema = z.ZodType;

/** The field names of the object schema at `path` inside `schema` (unwrapping optionals). */
function fieldsAt(schema: AnySchema, path: readonly PropertyKey[]): string[] {
  let s: AnySchema | undefined = schema;
  const unwrap = (x: AnySchema): AnySchema => {
    while (x instanceof z.ZodOptional || x instanceof z.ZodNullable || x instanceof z.ZodDefault) x = x.unwrap() as AnySchema;
    return x;
  };
  for (const key of path) {
    s = s && unwrap(s);
    s = s instanceof z.ZodObject ? (s.shape as Record<string, AnySchema>)[String(key)] : undefined;
  }
  s = s && unwrap(s);
  return s instanceof z.ZodObject ? Object.keys(s.shape) : [];
}

const fieldName = (path: readonly PropertyKey[]) => path.map(String).join('.') || '(root)';

function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, column: offset - start + 1 };
}

/** Every problem of a config file's text; empty when the trainer would accept its fields. */
export function checkConfigText(rawText: string): ConfigProblem[] {
  const text = rawText.replace(/^\uFEFF/, '');
  const at = (node: Node | undefined, message: string): ConfigProblem => {
    const offset = node?.offset ?? 0;
    return { message, offset, length: node?.length ?? 1, ...lineColumn(text, offset) };
  };
  const errors: ParseError[] = [];
  const tree = parseTree(text, errors, { allowTrailingComma: false, disallowComments: true, allowEmptyContent: false });
  if (errors.length > 0 || !tree) {
    // One message per place (the parser may report a spot twice), at most five.
    const firsts = errors.filter((e, i) => errors.findIndex((o) => o.offset === e.offset) === i).slice(0, 5);
    return firsts.map((e) => {
      const code = printParseErrorCode(e.error);
      return { message: `not valid JSON: ${syntaxMessages[code] ?? code}`, offset: e.offset, length: Math.max(1, e.length), ...lineColumn(text, e.offset) };
    });
  }
  const value: unknown = JSON.parse(text);
  const problems: ConfigProblem[] = [];
  /** Problems of one zod result, paths relative to `base` in the file. */
  const report = (error: z.ZodError, schema: AnySchema, base: readonly PropertyKey[]) => {
    for (const issue of error.issues) {
      const path = [...base, ...issue.path].map((k) => (typeof k === 'number' ? k : String(k)));
      if (issue.code === 'unrecognized_keys') {
        const known = fieldsAt(schema, issue.path);
        for (const key of issue.keys) {
          const keyNode = findNodeAtLocation(tree, path)?.children?.find((p) => p.children?.[0]?.value === key)?.children?.[0];
          const near = didYouMean(key, known);
          problems.push(at(keyNode, `${fieldName([...path, key])}: unknown field${near ? ` (did you mean "${near}"?)` : ''}`));
        }
        continue;
      }
      // The value at fault, or its nearest ancestor present in the file.
      let node: Node | undefined;
      for (let n = path.length; n >= 0 && !node; n--) node = findNodeAtLocation(tree, path.slice(0, n));
      problems.push(at(node, `${fieldName(path)}: ${issue.message}`));
    }
  };
  const file = configFileSchema.safeParse(value);
  if (!file.success) report(file.error, configFileSchema, []);
  const obj = (typeof value === 'object' && value !== null && !Array.isArray(value) ? value : {}) as Record<string, unknown>;
  const ext = obj['extends'];
  if (typeof ext === 'string' && !presetNamed(ext)) {
    const near = didYouMean(ext, Object.keys(presets));
    problems.push(at(findNodeAtLocation(tree, ['extends']), `extends: unknown preset "${ext}"${near ? ` (did you mean "${near}"?)` : ''} (known: ${Object.keys(presets).join(', ')})`));
  }
  // The data section is merged onto the preset's: check its fields against its kind's.
  const data = obj['data'];
  if (typeof data === 'object' && data !== null && !Array.isArray(data)) {
    const presetKind = ((typeof ext === 'string' && presetNamed(ext)) || presetNamed(defaultPresetName))?.data.kind;
    const kind = (data as Record<string, unknown>)['kind'] ?? presetKind;
    const variant = dataSchema.options.find((o) => o.shape.kind.value === kind);
    if (!variant) problems.push(at(findNodeAtLocation(tree, ['data', 'kind']), `data.kind: unknown kind ${JSON.stringify(kind)} (known: ${dataSchema.options.map((o) => o.shape.kind.value).join(', ')})`));
    else {
      const partial = variant.partial().strict();
      const r = partial.safeParse(data);
      if (!r.success) report(r.error, partial, ['data']);
    }
  }
  return problems.sort((a, b) => a.offset - b.offset);
}

/** "file:line:column: message" lines, as the trainer prints them. */
export function formatConfigProblems(file: string, problems: readonly ConfigProblem[]): string {
  return problems.map((p) => `${file}:${p.line}:${p.column}: ${p.message}`).join('\n');
}

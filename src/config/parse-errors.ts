import fs from 'node:fs';
import path from 'node:path';
import { isRecord } from '../is-record';

/**
 * Configuration that does not even parse: a config file node-config cannot read, an environment variable mapped
 * with `__format: "json"` that is not JSON, a NODE_CONFIG that is not JSON. Each is said as one problem naming the
 * file or variable and where in it the text goes wrong, never with the text itself: a partner list in
 * SKYRELAY_PARTNERS or a local.json holds keys, and parser messages quote what they failed on.
 */

/** node-config's own wording when a file does not parse, or cannot be read (lib/util.js, loadFile). */
const UNPARSABLE_FILE = /^Cannot parse config file: '(.+?)': ([\s\S]*)$/;
const UNREADABLE_FILE = /^Config file (.+?) cannot be read\. Error code is: (\w+)/;
/** node-config's wording when an environment variable with `__format` does not parse (lib/util.js, substituteDeep). */
const UNPARSABLE_VARIABLE = /^__format parser error in (\S+): ([\s\S]*)$/;

/** What node-config threw while loading, as a configuration problem. */
export function describeLoadError(err: unknown, where: ConfigPlace = currentPlace()): string {
  const message = err instanceof Error ? err.message : String(err);
  const file = UNPARSABLE_FILE.exec(message);
  if (file) return `${showFile(file[1] as string, where.cwd)}: ${describeSyntaxError(file[2] as string)}`;
  const unreadable = UNREADABLE_FILE.exec(message);
  if (unreadable) return `${showFile(unreadable[1] as string, where.cwd)}: cannot be read (${unreadable[2] as string})`;
  const variable = UNPARSABLE_VARIABLE.exec(message);
  if (variable) {
    const name = variable[1] as string;
    const key = findMappedKey(name, where);
    return `${key === undefined ? '' : `${key}: `}${name} ${describeSyntaxError(variable[2] as string)}`;
  }
  return `the configuration could not be loaded: ${withoutQuoted(message.split('\n')[0] ?? '')}`;
}

/**
 * node-config reads NODE_CONFIG (and --NODE_CONFIG=) itself, but one that is not JSON only gets a line on stderr
 * and is then ignored: the daemon would start on the files alone. Such a value is a configuration error.
 */
export function checkNodeConfigJson(env: Record<string, string | undefined>, argv: readonly string[]): string[] {
  const problems: string[] = [];
  const fromEnv = env['NODE_CONFIG'];
  if (fromEnv !== undefined && fromEnv !== '') {
    const problem = findJsonProblem(fromEnv);
    if (problem !== undefined) problems.push(`NODE_CONFIG ${problem}`);
  }
  const argument = argv.find((a) => a.startsWith('--NODE_CONFIG='));
  if (argument !== undefined) {
    const problem = findJsonProblem(argument.slice('--NODE_CONFIG='.length));
    if (problem !== undefined) problems.push(`--NODE_CONFIG ${problem}`);
  }
  return problems;
}

function findJsonProblem(text: string): string | undefined {
  try {
    JSON.parse(text);
    return undefined;
  } catch (err) {
    return describeSyntaxError(err instanceof Error ? err.message : String(err), text);
  }
}

/**
 * A parser's message without the text it quotes: json5 (node-config's JSON parser) says `JSON5: invalid character
 * 'x' at 3:5` (x from the text), V8's JSON.parse `Expected ',' or '}' after property value in JSON at position 47`
 * (only JSON's punctuation quoted) or `Unexpected token 'o', "notjson SE"... is not valid JSON` (the text quoted).
 * Kept: what went wrong and the line and column.
 */
export function describeSyntaxError(message: string, text?: string): string {
  const detail = message.replace(/^\w*Error: /, '');
  const json5 = /^JSON5: (.*) at (\d+):(\d+)$/s.exec(detail);
  if (json5) {
    return `is not valid JSON: ${withoutQuoted(json5[1] as string)} at line ${json5[2] as string}, column ${json5[3] as string}`;
  }
  const v8 = /^(.*?) in JSON at position (\d+)/s.exec(detail);
  if (v8) {
    const at = text === undefined ? `position ${v8[2] as string}` : lineAndColumn(text, Number(v8[2]));
    // In these messages V8 quotes only JSON's own punctuation (`Expected ',' or '}'`), never the text.
    return `is not valid JSON: ${lowerFirst(v8[1] as string)} at ${at}`;
  }
  if (/is not valid JSON$/.test(detail) || /^Unexpected/.test(detail)) {
    return /^Unexpected end/.test(detail) ? 'is not valid JSON: it ends too early' : 'is not valid JSON';
  }
  return `cannot be parsed: ${withoutQuoted(detail.split('\n')[0] ?? '')}`;
}

function lineAndColumn(text: string, position: number): string {
  const before = text.slice(0, position).split('\n');
  return `line ${before.length}, column ${(before[before.length - 1]?.length ?? 0) + 1}`;
}

/** Characters and snippets a parser quotes come from the text, which may be a secret. */
function withoutQuoted(message: string): string {
  return message
    .replace(/'(?:[^'\\]|\\.)*'/g, '')
    .replace(/"(?:[^"\\]|\\.)*"/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

function showFile(file: string, cwd: string): string {
  const relative = path.relative(cwd, file);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}

/** Where node-config looks: its config directories (NODE_CONFIG_DIR, by default ./config). */
export interface ConfigPlace {
  cwd: string;
  configDirs: string[];
}

function currentPlace(): ConfigPlace {
  const cwd = process.cwd();
  const argument = process.argv.find((a) => a.startsWith('--NODE_CONFIG_DIR='));
  const dirs = argument?.slice('--NODE_CONFIG_DIR='.length) ?? process.env['NODE_CONFIG_DIR'] ?? 'config';
  return {
    cwd,
    configDirs: dirs
      .split(path.delimiter)
      .filter((d) => d !== '')
      .map((d) => path.resolve(cwd, d)),
  };
}

/** The key an environment variable sets, from custom-environment-variables.json, to name it as other problems do. */
function findMappedKey(variable: string, where: ConfigPlace): string | undefined {
  for (const dir of where.configDirs) {
    let mapping: unknown;
    try {
      mapping = JSON.parse(fs.readFileSync(path.join(dir, 'custom-environment-variables.json'), 'utf8'));
    } catch {
      continue;
    }
    const key = findKeyOf(mapping, variable, []);
    if (key !== undefined) return key;
  }
  return undefined;
}

function findKeyOf(mapping: unknown, variable: string, at: string[]): string | undefined {
  if (!isRecord(mapping)) return undefined;
  if (mapping['__name'] === variable) return at.join('.');
  for (const [k, v] of Object.entries(mapping)) {
    if (typeof v === 'string' && v === variable) return [...at, k].join('.');
    const found = findKeyOf(v, variable, [...at, k]);
    if (found !== undefined) return found;
  }
  return undefined;
}

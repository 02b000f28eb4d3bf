/** A rule's (and a silence's) matcher value as written in the configuration; validated in schema.ts. */
export type Scalar = string | number | boolean;
export type MatcherOperator =
  { prefix: string } | { regex: string } | { contains: string } | { exists: boolean } | { not: MatcherValue };
export type MatcherValue = Scalar | Scalar[] | MatcherOperator;

export const OPERATORS = ['prefix', 'regex', 'contains', 'exists', 'not'] as const;
export type OperatorName = (typeof OPERATORS)[number];

export function isScalar(value: unknown): value is Scalar {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

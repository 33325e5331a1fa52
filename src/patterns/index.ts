// Public surface of the events module: compile an EventBridge event pattern once and match
// events against it, or compile all the rules of a bus into one matcher. Pure: no I/O.

export { PatternError, type PatternErrorDetails } from './errors.ts';
export { compilePattern } from './matcher.ts';
export { compileRules } from './rules.ts';
export type {
  AnythingButOperand,
  CompiledPattern,
  EventPattern,
  EventRule,
  IgnoreCaseOperand,
  PatternOperator,
  PatternValue,
  RuleMatcher,
} from './types.ts';

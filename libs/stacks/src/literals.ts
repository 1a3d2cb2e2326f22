import type { EnvironmentConfig } from '@queue-lanes/config';

/*
 * Terraform reads `${` and `%{` in every string of its JSON as the start of a
 * template (an interpolation or a directive): in a description, a container's
 * command, a Lambda's environment, a backend setting alike. A Redis key prefix of
 * `${aws_iam_role.x.arn}` would make the plan fail far from the file, or put another
 * resource's attribute in its place. So every string of the environment file enters
 * the stacks as a literal, here, once (composeEnvironment), whichever construct it
 * lands in: `$${` and `%%{` are Terraform's escapes for a literal `${` and `%{`
 * (the Terraform language, "Strings and Templates", Escape Sequences).
 */

/** `value` as a Terraform string that reads back as `value`. */
export function terraformLiteral(value: string): string {
  // Replacement functions, not strings: in a replacement string "$$" means "$".
  return value.replace(/\$\{/g, () => '$${').replace(/%\{/g, () => '%%{');
}

/**
 * The environment with every string in it a Terraform literal. Keys are left as
 * they are: every key of the file (lane and parameter names) is a name its schema
 * limits to letters, digits, "_" and "-".
 */
export function terraformLiterals(env: EnvironmentConfig): EnvironmentConfig {
  return literals(env) as EnvironmentConfig;
}

function literals(value: unknown): unknown {
  if (typeof value === 'string') return terraformLiteral(value);
  if (Array.isArray(value)) return value.map(literals);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, literals(inner)]));
  }
  return value;
}

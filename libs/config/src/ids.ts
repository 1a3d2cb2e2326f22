/*
 * The shapes of the names and AWS ids that the environment file, the constructs
 * and the tools all check, declared once: schema.ts builds its validation from
 * these, the constructs test their literal props against them, the tools their
 * command lines. A second copy drifts (one once took any length from 8 to 17).
 */

/**
 * An app, environment or lane name: lower-case letters, digits and dashes,
 * starting with a letter and not ending with a dash. It is a part of every
 * resource name, a file name (environments/<env>.yaml) and an Nx project (apps/<env>).
 */
export const NAME_PATTERN = /^[a-z]([a-z0-9-]*[a-z0-9])?$/;

/** What a name must be, in the words of NAME_PATTERN's refusals. */
export const NAME_RULE = 'must be lower-case letters, digits and dashes, starting with a letter';

// EC2 ids are a prefix and 8 hex digits (older resources) or 17 (the longer ids): no other length.
/** A security group's id: `sg-` and 8 or 17 hex digits, like sg-0123456789abcdef0. */
export const SECURITY_GROUP_ID = /^sg-[0-9a-f]{8}([0-9a-f]{9})?$/;
/** A subnet's id: `subnet-` and 8 or 17 hex digits. */
export const SUBNET_ID = /^subnet-[0-9a-f]{8}([0-9a-f]{9})?$/;
/** A managed prefix list's id: `pl-` and 8 or 17 hex digits. */
export const PREFIX_LIST_ID = /^pl-[0-9a-f]{8}([0-9a-f]{9})?$/;
/** A VPC's id: `vpc-` and 8 or 17 hex digits. */
export const VPC_ID = /^vpc-[0-9a-f]{8}([0-9a-f]{9})?$/;

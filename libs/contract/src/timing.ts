/*
 * The controller's clock, as the configuration's defaults and the decision both
 * read it: the look-ahead's default is written into CONTROLLER_CONFIG at synth and
 * priced by the decision at run time, so both take it from here.
 */

/**
 * Seconds from a lane's UpdateService to its first worker polling: Fargate's
 * provisioning and the image pull. AWS publishes no figure; a minute is typical for
 * an application image of a few hundred MB (the simulator draws 30-90 s).
 */
export const TASK_START_SECONDS = 60;

/** Seconds between scheduled ticks: a job that meets a cold lane waits for the next one (half of it on average). */
export const TICK_SECONDS = 60;

/**
 * The longest a cold lane can take to start a job: the next tick, then a task
 * start. Also how far ahead delayed jobs count as work (the look-ahead's default).
 */
export const COLD_PICKUP_SECONDS = TICK_SECONDS + TASK_START_SECONDS;

// Scenario files (scenarios/*.json): randomization, bottle and thread, grasp model, cameras, time limit, success, and
// the perturbations a policy meets outside the simulator it was trained in (camera mounting, light, colours, actuation).
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { z } from "zod";
import {
  ValidationError,
  loadJsonFile,
  loadRobot,
  parseWith,
  type Issue,
  type RobotDescription,
} from "../core/index.ts";
import { applyPerturbations } from "./perturbations.ts";

const vec3 = z.tuple([z.number(), z.number(), z.number()]);
/** A closed interval [lo, hi] sampled uniformly per episode; lo = hi fixes the value. */
const range = z
  .tuple([z.number(), z.number()])
  .refine(([lo, hi]) => lo <= hi, { message: "range [lo, hi] with lo <= hi" });
const positiveRange = z
  .tuple([z.number().nonnegative(), z.number().nonnegative()])
  .refine(([lo, hi]) => lo <= hi, { message: "range [lo, hi] with lo <= hi" });

/** A range per axis (x, y, z), each drawn on its own. */
const axisRanges = z.tuple([range, range, range]);
/** A range bounded to [-limit, limit] (angles in degrees). */
const boundedRange = (limit: number) =>
  z
    .tuple([z.number().min(-limit).max(limit), z.number().min(-limit).max(limit)])
    .refine(([lo, hi]) => lo <= hi, { message: "range [lo, hi] with lo <= hi" });
/** A colour as "#rrggbb" (sRGB, as three.js takes hex colours), read as the number 0xrrggbb. */
const hexColor = z
  .string()
  .regex(/^#[0-9a-fA-F]{6}$/, 'a colour "#rrggbb"')
  .transform((s) => Number.parseInt(s.slice(1), 16));

/**
 * A camera mounted a little elsewhere than its nominal pose, drawn per episode: where a real camera's bracket puts it
 * within its mounting tolerance.
 */
const cameraOffsetSchema = z.strictObject({
  /** Shift (m) per axis of the mount frame; position and look-at point move together, so the camera is not re-aimed. */
  position: axisRanges.default([
    [0, 0],
    [0, 0],
    [0, 0],
  ]),
  /** Turn (degrees) about the camera's own right, up and viewing axes (pitch, yaw, roll), applied after aiming. */
  rotation: z.tuple([boundedRange(180), boundedRange(180), boundedRange(180)]).default([
    [0, 0],
    [0, 0],
    [0, 0],
  ]),
});

export const cameraSchema = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9_]*$/, "a lower-case identifier"),
  /** "world" for a fixed camera, or "left_hand"/"right_hand" to ride on a gripper. */
  mount: z.enum(["world", "left_hand", "right_hand"]),
  /** Camera position in the mount frame (m). Hand frame: z along the tool, y along the finger closing axis. */
  position: vec3,
  /** Point the camera looks at, in the mount frame (m). */
  look_at: vec3,
  /** Up direction in the mount frame. */
  up: vec3.default([0, 0, 1]),
  /** Vertical field of view (degrees). */
  fov: z.number().gt(1).lt(179),
  width: z.number().int().positive().max(1024),
  height: z.number().int().positive().max(1024),
  /** Absent: the camera sits exactly at its pose in every episode. */
  offset: cameraOffsetSchema.optional(),
});
export type CameraSpec = z.output<typeof cameraSchema>;

/** The tasks the simulator scores and the scripted expert performs. */
export const TASKS = ["unscrew", "lift", "handover"] as const;
export type TaskName = (typeof TASKS)[number];

const phrasings = z.array(z.string().min(1)).min(1);
export const taskSchema = z.strictObject({
  /** unscrew: one hand holds, the other unscrews; lift: one hand lifts the bottle; handover: one hand lifts it and
   * hands it to the other. */
  task: z.enum(TASKS),
  /** Relative frequency among the scenario's tasks (default 1). */
  weight: z.number().positive().default(1),
  /**
   * Phrasings by the hand they name: "any" names none (the expert draws it), "left"/"right" name the hand that holds
   * (unscrew), lifts (lift) or gives (handover). At least one key.
   */
  instructions: z
    .strictObject({ any: phrasings.optional(), left: phrasings.optional(), right: phrasings.optional() })
    .refine((i) => i.any || i.left || i.right, { message: "at least one of any, left, right" }),
});

/** The light the cameras see, drawn per episode; each field's default is the unperturbed light. */
const lightingSchema = z.strictObject({
  /** Factor on every light's intensity (ambient and sun). */
  intensity: positiveRange.default([1, 1]),
  /** Factor on each colour channel (r, g, b, linear) of every light: a warm or cold tint. */
  color: z.tuple([positiveRange, positiveRange, positiveRange]).default([
    [1, 1],
    [1, 1],
    [1, 1],
  ]),
  /** Turn (degrees) of the sun's direction about the vertical. */
  azimuth: boundedRange(180).default([0, 0]),
  /** Change (degrees) of the sun's elevation above the table (positive: higher). */
  elevation: boundedRange(90).default([0, 0]),
});

/** A range [lo, hi] within [0, 1]. */
const unitRange = z
  .tuple([z.number().min(0).max(1), z.number().min(0).max(1)])
  .refine(([lo, hi]) => lo <= hi, { message: "range [lo, hi] with lo <= hi" });

/**
 * A colour drawn per episode, uniformly in HSV (of sRGB, as colour pickers have it) and rounded to "#rrggbb". HSV
 * rather than an RGB box: "any hue, fairly saturated, neither dark nor pale" is one box in HSV, while an RGB box that
 * holds both a blue and a yellow also holds the greys and muddy mixtures between them.
 */
const hsvRangeSchema = z.strictObject({
  /** Hue (degrees: 0 red, 120 green, 240 blue), within ±360; a range may cross 0 ([-30, 30]: the reds). */
  hue: boundedRange(360),
  saturation: unitRange,
  value: unitRange,
});
export type HsvRange = z.output<typeof hsvRangeSchema>;

/** A fixed colour (the number 0xrrggbb) or an HSV range drawn per episode. */
const colorSchema = z.union([hexColor, hsvRangeSchema], {
  error: 'a colour "#rrggbb" or a range {"hue": [lo, hi], "saturation": [lo, hi], "value": [lo, hi]}',
});
export type ColorSpec = z.output<typeof colorSchema>;

/** Colours of the table and the objects; each absent one keeps its default (sim/bodies.ts COLORS). */
const colorsSchema = z.strictObject({
  table: colorSchema.optional(),
  bottle: colorSchema.optional(),
  neck: colorSchema.optional(),
  cap: colorSchema.optional(),
});

/** How commands reach the joints: a real arm's latency and tracking error. */
const actuationSchema = z.strictObject({
  /** Seconds from a command to the joints taking it up (a whole number of physics steps); the arm holds till then. */
  delay_s: z.number().nonnegative().max(1).default(0),
  /**
   * Std (rad) of a slowly varying tracking error on joints 1–6 of both arms (as SimEnvOptions.actuationNoise, which
   * overrides it when given).
   */
  tracking_noise: z.number().nonnegative().max(0.1).default(0),
});

/** How a gripper holds what it grasps (Grasps in docs/simulator.md). */
export const GRASP_MODELS = ["friction", "weld"] as const;
export type GraspModel = (typeof GRASP_MODELS)[number];
/** Relative frequencies of grasp models drawn per episode; at least one, each > 0 (leave a model out instead of 0). */
const graspWeightsSchema = z
  .strictObject({ friction: z.number().positive().optional(), weld: z.number().positive().optional() })
  .refine((w) => GRASP_MODELS.some((m) => w[m] !== undefined), { message: "at least one of friction, weld" });
export type GraspWeights = z.output<typeof graspWeightsSchema>;
/** Whether a `grasp.model` can give an episode the weld. */
const mayWeld = (model: GraspModel | GraspWeights): boolean =>
  model === "weld" || (typeof model === "object" && model.weld !== undefined);

export const scenarioSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string().default(""),
  /** Robot description file, relative to the scenario file. */
  robot: z.string().min(1),
  /** Control rate (Hz): actions per second. */
  control_hz: z.number().positive().max(1000),
  /** Physics rate (Hz); must be a multiple of control_hz. */
  physics_hz: z.number().positive().max(5000),
  /** Gauss–Seidel iterations per physics step (a light cap needs ≈50 to turn). */
  solver_iterations: z.number().int().positive().max(1000),
  /** Episode time limit (s). */
  time_limit_s: z.number().positive(),
  bottle: z.strictObject({
    radius: z.number().positive(),
    height: z.number().positive(),
    mass: z.number().positive(),
    neck_radius: z.number().positive(),
    neck_height: z.number().positive(),
    /** Bottle centre on the table (m), sampled per episode. */
    x: range,
    y: range,
    /** Bottle yaw (rad), sampled per episode. */
    yaw: range,
    /** Friction coefficient against the table. */
    friction: z.number().nonnegative(),
  }),
  cap: z.strictObject({
    radius: z.number().positive(),
    height: z.number().positive(),
    mass: z.number().positive(),
    /** Thread pitch (m per turn). */
    pitch: z.number().positive(),
    /** Turns until the thread lets go. */
    release_turns: z.number().positive(),
    /** Thread friction torque (N·m) resisting loosening, sampled per episode (cap tightness). */
    friction_torque: positiveRange,
    /** Not drawn (cameras and viewer alike): only touch and sound tell where it is and when it comes free. */
    hidden: z.boolean().default(false),
  }),
  grasp: z
    .strictObject({
      /**
       * "friction": finger friction bounded by μ·grip force; "weld": lock on two-finger contact until opened. Or
       * weights by model ({"weld": 3, "friction": 1}): one drawn per episode with these relative frequencies.
       */
      model: z.union([z.enum(GRASP_MODELS), graspWeightsSchema], {
        error: `one of ${GRASP_MODELS.map((m) => `"${m}"`).join(", ")}, or weights by model such as {"weld": 3, "friction": 1}`,
      }),
      /**
       * Weld (episodes) only: compliance of the lock between hand and object, as a real hand's soft pads and a Panda's impedance
       * controller give (N/m and N·m/rad). Absent: rigid (cannon-es's 1e7).
       */
      stiffness: z.number().positive().optional(),
      angular_stiffness: z.number().positive().optional(),
    })
    .refine((g) => mayWeld(g.model) || (g.stiffness === undefined && g.angular_stiffness === undefined), {
      message:
        'stiffness and angular_stiffness only with model "weld" or weights that give it one (the friction grasp has no lock to soften)',
    }),
  success: z.strictObject({
    /** Cap must be released and farther than this from its seat (m). */
    cap_distance: z.number().positive(),
    /**
     * The bottle must be in a gripper when the cap comes off (default true): the task is one arm holding while the
     * other unscrews. Without it, knocking the bottle over can shake a loosened cap free — an early policy found that.
     */
    bottle_held: z.boolean().default(true),
    /** lift and handover: the bottle's base must be this high above the table at the end (m; default 0.08). */
    lift_height: z.number().positive().default(0.08),
  }),
  cameras: z.array(cameraSchema),
  /**
   * Several tasks, one drawn per episode (absent: the one task, unscrewing, with the hand left to the expert's draw).
   * Each task lists its instructions by the hand they name; the episode draws a task by weight, then a hand key
   * among those listed, then one phrasing. The instruction is what a recording stores as its LeRobot `task`.
   */
  tasks: z.array(taskSchema).min(1).optional(),
  expert: z.strictObject({
    /** Which arm holds the bottle: drawn per episode ("random") or fixed. */
    mode: z.enum(["random", "left", "right"]),
    /** Standard deviation of waypoint noise (m) that makes demonstrations diverse. */
    noise: z.number().nonnegative(),
  }),
  // The perturbations below have no default in the parsed scenario: absent stays absent, so a scenario without them
  // keeps the identity a dataset recorded in it stores (the hash of the parsed scenario, runner/record-job.ts).
  /** The light (absent: the nominal light in every episode). */
  lighting: lightingSchema.optional(),
  /** Colours of table, bottle and cap (absent: the defaults). */
  colors: colorsSchema.optional(),
  /** Command latency and tracking error (absent: none). */
  actuation: actuationSchema.optional(),
});

export type ScenarioFile = z.output<typeof scenarioSchema>;
/** A validated scenario with its robot description resolved. */
export interface Scenario extends ScenarioFile {
  file: string;
  robotDescription: RobotDescription;
}

/** Whether `x` is a whole number, to 1e-9 (rates and durations are written as decimals). */
const whole = (x: number): boolean => Math.abs(x - Math.round(x)) <= 1e-9;

/**
 * Load and validate a scenario and its robot file; every bad field of either file is reported with the file name.
 * `perturb` names perturbations (sim/perturbations.ts) laid over the file, in order, before it is validated.
 */
export function loadScenario(file: string, perturb: readonly string[] = []): Scenario {
  const source = perturb.length > 0 ? `${file} with --perturb ${perturb.join(",")}` : file;
  const parsed = parseWith(scenarioSchema, applyPerturbations(loadJsonFile(file, z.unknown()), perturb), source);
  const issues: Issue[] = [];
  if (!whole(parsed.physics_hz / parsed.control_hz)) {
    issues.push({
      path: "physics_hz",
      expected: `a multiple of control_hz (${parsed.control_hz})`,
      received: String(parsed.physics_hz),
    });
  }
  const delay = parsed.actuation?.delay_s ?? 0;
  if (!whole(delay * parsed.physics_hz)) {
    issues.push({
      path: "actuation.delay_s",
      expected: `a whole number of physics steps (a multiple of 1/physics_hz = ${1 / parsed.physics_hz} s)`,
      received: String(delay),
    });
  }
  if (issues.length > 0) throw new ValidationError(source, issues);
  const robotFile = resolve(dirname(file), parsed.robot);
  if (!existsSync(robotFile)) {
    throw new ValidationError(file, [
      {
        path: "robot",
        expected: "a robot description file (relative to the scenario's folder), e.g. ../robots/panda-pair.json",
        received: `${JSON.stringify(parsed.robot)}, and ${robotFile} does not exist`,
      },
    ]);
  }
  const robotDescription = loadRobot(robotFile);
  return { ...parsed, file, robotDescription };
}

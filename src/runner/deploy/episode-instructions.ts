// The instructions of a deploy run's episodes, for a language-conditioned policy on a robot.
//
// An episode runs from the start of `duet deploy`, or from a resume after an operator stop, to the next operator stop;
// holds, reconnects and the watchdog do not end it. Its instruction is fixed when it starts:
//   first episode: `--instruction` if given (`first`), else the first message on the interface's instruction topic;
//                  until one arrives the deploy loop stays in `starting` and sends nothing;
//   a message on the topic during an episode, or while stopped: the NEXT episode's instruction (one log line); the
//                  episode in progress keeps its own. It takes effect at the next resume, where the loop resets the
//                  policy (nothing of the plan made for the other task, its temporal ensemble, carries over).
// A message never starts or resumes motion by itself. A repeat of the instruction already due (a latched topic sends
// its message again on every connection) changes nothing. A text the policy's encoder cannot take (too long, control
// characters) is logged and ignored. So `--instruction` and the topic do not compete: the flag is the first
// episode's task, the topic sets the later ones.

/** Where a language-conditioned policy's instructions come from on a robot (DeployOptions.language). */
export interface DeployLanguage {
  /** The first episode's instruction (`duet deploy --instruction`), already checked. Absent: wait for the topic. */
  first?: string;
  /** The interface's instruction topic (std_msgs/String), for log lines; absent: the interface has none. */
  topic?: string;
  /** `text` as the policy reads it, or a DuetError that starts with `where` and says why it cannot (logged). */
  check: (text: string, where: string) => string;
}

/** The instruction in force and the next one (see the header). */
export class EpisodeInstructions {
  private now: string | undefined;
  private next: string | undefined;
  /** Episodes begun (1: the first). */
  private episodes = 1;

  constructor(
    private readonly language: DeployLanguage,
    private readonly log: (line: string) => void,
  ) {
    this.now = language.first;
  }

  /** The instruction of the episode in progress; undefined while the first episode waits for one. */
  get current(): string | undefined {
    return this.now;
  }

  /** Why the loop may not move yet (the first episode has no instruction), or undefined. */
  get waiting(): string | undefined {
    if (this.now !== undefined) return undefined;
    return (
      `waiting for an instruction on ${this.language.topic ?? "the instruction topic"} (std_msgs/String): the ` +
      "policy is language-conditioned and does not move without one"
    );
  }

  /** Log the first episode's instruction, if it has one already. */
  started(): void {
    if (this.now !== undefined) this.log(`episode 1: instruction ${JSON.stringify(this.now)}`);
  }

  /** A message on the instruction topic: this episode's if it has none yet, else the next one's. */
  receive(raw: string, topic: string): void {
    let text: string;
    try {
      text = this.language.check(raw, topic);
    } catch (e) {
      const keeps = this.now === undefined ? "still waiting for one" : `keeping ${JSON.stringify(this.now)}`;
      this.log(`instruction ignored (${keeps}): ${(e as Error).message}`);
      return;
    }
    if (this.now === undefined) {
      this.now = text;
      this.log(`episode ${this.episodes}: instruction ${JSON.stringify(text)} (from ${topic})`);
      return;
    }
    if (text === (this.next ?? this.now)) return;
    this.next = text === this.now ? undefined : text;
    this.log(
      `instruction from ${topic} for the next episode: ${JSON.stringify(text)}; it applies when the run is resumed ` +
        `after an operator stop (s, then r); until then the instruction stays ${JSON.stringify(this.now)}`,
    );
  }

  /** A new episode begins (a resume): it takes the next instruction if one came; true when the instruction changed. */
  begin(): boolean {
    this.episodes++;
    const next = this.next;
    if (next === undefined) return false;
    this.now = next;
    this.next = undefined;
    this.log(`episode ${this.episodes}: instruction ${JSON.stringify(next)}`);
    return true;
  }

  /** Episodes begun so far (1 before any resume). */
  get count(): number {
    return this.episodes;
  }
}

// Child process for the kill test: records many slow episodes into argv[2] until killed.
import { recordEpisodes } from "../../src/runner/record/index.ts";
import { FakeEnv, FakePolicy } from "./fake-env.ts";

const out = process.argv[2] as string;
await recordEpisodes({
  makeEnv: () => new FakeEnv(30),
  makePolicy: () => new FakePolicy(3),
  out,
  episodes: 1000,
  seed: 7,
  resume: process.argv[3] === "resume",
});

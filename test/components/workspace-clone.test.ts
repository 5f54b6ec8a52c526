/**
 * The first-start clone script (plan-workspace.ts gitCloneCommand) run by a real POSIX shell,
 * with a stand-in `git` on PATH that records its arguments and writes a checkout: clones only
 * into an empty workspace, moves dotfiles in, passes the ref, then runs the agent's command;
 * without git it stops with the message that names the field.
 */
import * as assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { gitCloneCommand } from "../../components/plan-workspace";

interface Run { code: number; stdout: string; stderr: string }

function run(argv: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(argv[0] as string, argv.slice(1), { env, timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe("workspace first-start clone script", function () {
  this.timeout(30_000);
  let dir: string;
  let ws: string;
  let bin: string;
  /** PATH with the system's tools but no git: /usr/bin and /bin may hold a real one, so copy only what the script uses. */
  let env: Record<string, string>;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "bb-clone-"));
    ws = path.join(dir, "workspace");
    bin = path.join(dir, "bin");
    mkdirSync(ws);
    mkdirSync(bin);
    // the tools the script needs, by absolute path, without git
    for (const tool of ["ls", "grep", "rm", "mv", "rmdir", "sleep", "cat", "mkdir", "echo"]) {
      writeFileSync(path.join(bin, tool), `#!/bin/sh\nexec /usr/bin/env -i PATH=/usr/bin:/bin ${tool} "$@"\n`);
      chmodSync(path.join(bin, tool), 0o755);
    }
    env = { PATH: bin, BOT_BOTTLE_WORKSPACE: ws };
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function fakeGit(): void {
    // `git clone --quiet [--branch REF] -- URL DEST`: record the arguments, write a checkout with a dotfile
    writeFileSync(path.join(bin, "git"), [
      "#!/bin/sh",
      `printf '%s\\n' "$@" > ${JSON.stringify(path.join(dir, "git-args"))}`,
      'for last; do :; done',
      '/bin/mkdir -p "$last/.git" && echo ref > "$last/.git/HEAD" && echo hello > "$last/README.md"',
    ].join("\n"));
    chmodSync(path.join(bin, "git"), 0o755);
  }

  const command = (git: { url: string; ref?: string }, after: string[]) => ["/bin/sh", ...gitCloneCommand(git, after).slice(1)];

  it("clones into an empty workspace, dotfiles included, with the ref, then runs the agent's command", async () => {
    fakeGit();
    const r = await run(command({ url: "https://git.example.test/acme/widget.git", ref: "main" }, ["/bin/echo", "agent started"]), env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), "agent started");
    assert.deepEqual(readdirSync(ws).sort(), [".git", "README.md"]);
    assert.deepEqual(readFileSync(path.join(dir, "git-args"), "utf8").trim().split("\n"),
      ["clone", "--quiet", "--branch", "main", "--", "https://git.example.test/acme/widget.git", path.join(ws, ".bot-bottle-clone")]);
  });

  it("clones the remote's default branch without a ref, and treats lost+found as empty", async () => {
    fakeGit();
    mkdirSync(path.join(ws, "lost+found"));
    const r = await run(command({ url: "https://git.example.test/a/b.git" }, ["/bin/echo", "ok"]), env);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!readFileSync(path.join(dir, "git-args"), "utf8").includes("--branch"));
    assert.deepEqual(readdirSync(ws).sort(), [".git", "README.md", "lost+found"]);
  });

  it("leaves a workspace with files alone: no clone, the command runs", async () => {
    fakeGit();
    writeFileSync(path.join(ws, "work.txt"), "mine");
    const r = await run(command({ url: "https://git.example.test/a/b.git" }, ["/bin/echo", "ok"]), env);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readdirSync(ws), ["work.txt"]);
    assert.throws(() => readFileSync(path.join(dir, "git-args")), "git was not run");
  });

  it("stops with a message naming the field and the fix when the image has no git", async () => {
    const r = await run(command({ url: "https://git.example.test/a/b.git" }, ["/bin/echo", "never"]), env);
    assert.equal(r.code, 127);
    assert.equal(r.stdout, "", "the agent's command did not run");
    assert.match(r.stderr, /^bot-bottle: agent\.workspace\.git is set, but the agent image has no git; install git in the image, or drop agent\.workspace\.git$/m);
  });
});

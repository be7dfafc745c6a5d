// The one pull request comment of the Terraform workflow: the staging plan and the schedule
// preview. Found again on every push by its hidden marker and updated in place.
//
// Called from actions/github-script in terraform.yml:
//   await require('./.github/scripts/plan-comment.js')({ github, context, core })
// Environment:
//   PLAN_DIR            result.json ({ exitcode, image_tag, summary }) and plan.txt of the plan job
//   SCHEDULE_DIR        schedule.md of the schedule job
//   PLAN_JOB_RESULT     needs.plan.result (success, failure, skipped, cancelled)
//   SCHEDULE_JOB_RESULT needs.schedule.result
//   ENVIRONMENT         the environment that was planned (staging)

const fs = require("node:fs");
const path = require("node:path");

const MARKER = "<!-- batchbox-terraform-plan -->";
// GitHub refuses comment bodies over 65536 characters; keep a margin for what GitHub adds.
const BODY_LIMIT = 65000;

function read(dir, name) {
  if (!dir) return null;
  try {
    return fs.readFileSync(path.join(dir, name), "utf8");
  } catch {
    return null;
  }
}

// A code block whose fence cannot be closed by backticks inside the text.
function codeBlock(text) {
  const longest = (text.match(/`+/g) || []).reduce((max, run) => Math.max(max, run.length), 0);
  const fence = "`".repeat(Math.max(3, longest + 1));
  return `${fence}text\n${text}\n${fence}`;
}

// Cuts `text` to at most `budget` characters at a line boundary, saying so; never splits a
// surrogate pair.
function truncate(text, budget, note) {
  if (text.length <= budget) return text;
  const keep = Math.max(0, budget - note.length - 2);
  let cut = text.lastIndexOf("\n", keep);
  if (cut < keep / 2) cut = keep;
  if (cut > 0 && /[\uD800-\uDBFF]/.test(text[cut - 1])) cut -= 1;
  return `${text.slice(0, cut)}\n${note}`;
}

function planSection(env, planDir, jobResult, runUrl) {
  const resultText = read(planDir, "result.json");
  if (!resultText) {
    return {
      head: `## Terraform plan: ${env}\n\n:x: The plan job ended (${jobResult}) without a plan: see [the run](${runUrl}).`,
      plan: null,
    };
  }
  const result = JSON.parse(resultText);
  const plan = read(planDir, "plan.txt") || "";
  const lines = [`## Terraform plan: ${env}`, ""];
  if (result.exitcode === 0) {
    lines.push(":white_check_mark: **No changes.** The infrastructure matches this pull request.");
  } else if (result.exitcode === 2) {
    lines.push(`:memo: **${result.summary || "Changes planned."}**`);
    const destroyed = /(\d+) to destroy/.exec(result.summary || "");
    if (destroyed && Number(destroyed[1]) > 0) {
      lines.push("", ":warning: This plan destroys or replaces resources: check each one below.");
    }
  } else {
    lines.push(":x: **The plan failed.** The error is below.");
  }
  lines.push(
    "",
    result.image_tag
      ? `Planned with the image tag deployed on ${env} now (\`${result.image_tag}\`), so only this pull request's changes show. After the merge, the apply uses the image of the merge commit.`
      : `Planned with the image tag of \`terraform/envs/${env}/terraform.tfvars\` (no image deployed yet).`,
  );
  return { head: lines.join("\n"), plan, open: result.exitcode !== 0 };
}

module.exports = async ({ github, context, core }) => {
  const env = process.env.ENVIRONMENT || "staging";
  const runUrl = `${context.serverUrl}/${context.repo.owner}/${context.repo.repo}/actions/runs/${context.runId}`;
  const sha = (context.payload.pull_request && context.payload.pull_request.head.sha) || context.sha;

  const planned = planSection(env, process.env.PLAN_DIR, process.env.PLAN_JOB_RESULT, runUrl);
  let schedule = read(process.env.SCHEDULE_DIR, "schedule.md");
  if (!schedule) {
    schedule = `### Schedules on ${env}\n\n:x: The schedule preview ended (${process.env.SCHEDULE_JOB_RESULT}) without a table: see [the run](${runUrl}).`;
  }
  schedule = truncate(schedule.trim(), 15000, `... (schedule preview truncated: see [the run](${runUrl}))`);

  const footer = `<sub>Updated for ${sha.slice(0, 12)} by [${context.workflow} run ${context.runNumber}](${runUrl}).</sub>`;
  const assemble = (planText) => {
    const parts = [MARKER, planned.head];
    if (planText !== null) {
      parts.push(
        `<details${planned.open ? " open" : ""}><summary>Plan output</summary>\n\n${codeBlock(planText)}\n\n</details>`,
      );
    }
    parts.push(schedule, footer);
    return parts.join("\n\n");
  };

  let planText = planned.plan;
  if (planText !== null) {
    // What is left for the plan text once everything else is in place.
    const budget = BODY_LIMIT - assemble("").length;
    const summary = (planText.match(/^(Plan:.*|No changes\..*)$/m) || [""])[0];
    planText = truncate(
      planText,
      budget,
      `... truncated: ${planText.length} characters in all, the whole plan is in the log of the plan job (${runUrl}).` +
        (summary ? `\n${summary}` : ""),
    );
  }
  const body = assemble(planText);
  if (body.length > 65536) {
    throw new Error(`comment body of ${body.length} characters exceeds GitHub's limit`);
  }

  const issue = { owner: context.repo.owner, repo: context.repo.repo, issue_number: context.issue.number };
  const comments = await github.paginate(github.rest.issues.listComments, { ...issue, per_page: 100 });
  const previous = comments.find(
    (c) => c.user && c.user.type === "Bot" && typeof c.body === "string" && c.body.includes(MARKER),
  );
  if (previous) {
    await github.rest.issues.updateComment({ owner: issue.owner, repo: issue.repo, comment_id: previous.id, body });
    core.info(`updated comment ${previous.html_url} (${body.length} characters)`);
  } else {
    const created = await github.rest.issues.createComment({ ...issue, body });
    core.info(`created comment ${created.data.html_url} (${body.length} characters)`);
  }
};

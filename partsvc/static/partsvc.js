// partsvc pages: small enhancements; every page works without them.
"use strict";

// A form with data-confirm asks before it is sent (reversals, assignments).
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});

// Countdowns to call deadlines: "in 1 h 05 min", "missed by 12 min" (还剩 1 小时 05 分,
// 已超时 12 分钟); near and missed in colour. The words come from the page, in its language.
const wordsHolder = document.querySelector("[data-words]");
const words = wordsHolder ? JSON.parse(wordsHolder.dataset.words) : {};

function fill(template, values) {
  return template.replace(/%\((\w+)\)s/g, (_, name) => String(values[name]));
}

function describe(seconds) {
  const minutes = Math.floor(Math.abs(seconds) / 60);
  const side = seconds >= 0 ? "left" : "missed";
  if (minutes >= 48 * 60) {
    return fill(words[`${side}_days`] || "%(days)s d", { days: Math.floor(minutes / 1440) });
  }
  if (minutes >= 60) {
    return fill(words[`${side}_hours`] || "%(hours)s h %(minutes)s min", {
      hours: Math.floor(minutes / 60),
      minutes: String(minutes % 60).padStart(2, "0"),
    });
  }
  return fill(words[`${side}_minutes`] || "%(minutes)s min", { minutes });
}

// The server's clock, not the device's: a phone set five minutes wrong must not lie.
const served = document.querySelector("[data-now]");
const offset = served ? Date.parse(served.dataset.now) - Date.now() : 0;

function tick() {
  const now = Date.now() + offset;
  for (const clock of document.querySelectorAll("time.countdown")) {
    const left = (Date.parse(clock.dateTime) - now) / 1000;
    clock.textContent = describe(left);
    const row = clock.closest("tr");
    if (row) {
      row.classList.toggle("missed", left < 0);
      row.classList.toggle("near", left >= 0 && left <= Number(clock.dataset.warn || 0));
    }
  }
}
if (document.querySelector("time.countdown")) {
  tick();
  setInterval(tick, 1000);
}

// Planning takes the planner's time limit: the form is sent in the background so the
// page can show how far along the search is, then the board opens with the plan. With a
// planning queue the answer names the worker's job, and the page asks it how far it is;
// without one the answer comes when the plan is made. Without JavaScript the form posts
// as usual and the browser waits.
const planForm = document.getElementById("plan-form");
if (planForm) {
  const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  planForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const limit = Number(planForm.dataset.progress || 10);
    const bar = document.getElementById("plan-progress");
    const status = document.getElementById("plan-status");
    const button = planForm.querySelector("button");
    let began = Date.now();
    let job = null;
    bar.hidden = false;
    status.hidden = false;
    button.disabled = true;
    const step = () => {
      if (job && job.status === "queued") {
        bar.value = 0;
        status.textContent = planForm.dataset.waiting;
        return;
      }
      const spent = (Date.now() - began) / 1000;
      bar.value = job && job.progress != null ? job.progress * limit : Math.min(spent, limit);
      status.textContent = planForm.dataset.planning
        .replace("{spent}", Math.floor(spent))
        .replace("{limit}", limit);
    };
    step();
    const timer = setInterval(step, 250);
    try {
      const response = await fetch(planForm.action, {
        method: "POST",
        body: new FormData(planForm),
        headers: { "X-Requested-With": "fetch" },
        credentials: "same-origin",
      });
      let answer = await response.json();
      while (answer.job && !answer.next) {
        await pause(500);
        const polled = await fetch(answer.job, { credentials: "same-origin" });
        const seen = await polled.json();
        if (job && job.status === "queued" && seen.status === "running") {
          began = Date.now();
        }
        job = seen;
        answer = { ...answer, next: seen.next };
      }
      window.location.assign(answer.next);
    } catch (error) {
      clearInterval(timer);
      status.textContent = planForm.dataset.failed;
      button.disabled = false;
    }
  });
}

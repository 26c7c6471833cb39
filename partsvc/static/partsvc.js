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

// The board's open calls come again every few seconds (data-refresh, the setting
// PARTSVC_BOARD_REFRESH_S): new calls and status changes show without a reload, and the
// plan drawn below stays as it is. A failed fetch keeps what is shown and tries again.
const openCalls = document.getElementById("open-calls");
if (openCalls && Number(openCalls.dataset.refresh) > 0) {
  const refresh = async () => {
    try {
      const answer = await fetch(openCalls.dataset.source, {
        credentials: "same-origin",
        headers: { "X-Requested-With": "fetch" },
      });
      if (answer.ok && answer.headers.get("Content-Type").startsWith("text/html")) {
        openCalls.innerHTML = await answer.text();
        tick();
      }
    } catch (error) {
      // the network is down for a moment: keep the calls shown
    }
  };
  setInterval(refresh, Number(openCalls.dataset.refresh) * 1000);
}

// The plan's visits and sites tell their details on tap or click (a touch screen has no
// hover), in a line above the timeline; Enter does the same from the keyboard.
const planDetail = document.getElementById("plan-detail");
if (planDetail) {
  const show = (mark) => {
    for (const chosen of document.querySelectorAll(".mark.chosen")) {
      chosen.classList.remove("chosen");
    }
    mark.classList.add("chosen");
    planDetail.textContent = mark.dataset.detail;
    planDetail.hidden = false;
  };
  document.addEventListener("click", (event) => {
    const mark = event.target.closest && event.target.closest(".mark[data-detail]");
    if (mark) {
      show(mark);
    }
  });
  document.addEventListener("keydown", (event) => {
    const mark = event.target.closest && event.target.closest(".mark[data-detail]");
    if (mark && event.key === "Enter") {
      show(mark);
    }
  });
}

// The new-call form: the site and equipment fields suggest as the dispatcher types
// (a customer's Chinese name, a code, an address), and the deadlines the call would get
// are shown as soon as a site and a priority are chosen, from the server's SLA rules.
const newCall = document.getElementById("new-call");
if (newCall) {
  const site = newCall.querySelector("#site");
  const equipment = newCall.querySelector("#equipment");
  const preview = document.getElementById("deadline-preview");
  const previewWords = JSON.parse(preview.dataset.words);
  const ask = async (url, params) => {
    const answer = await fetch(`${url}?${new URLSearchParams(params)}`, {
      credentials: "same-origin",
    });
    return answer.ok ? answer.json() : {};
  };
  const offer = (list, rows) => {
    list.replaceChildren(
      ...rows.map((row) => {
        const option = document.createElement("option");
        option.value = row.code;
        option.label = row.label;
        option.textContent = row.label;
        return option;
      }),
    );
  };
  let typing = null;
  const suggestSites = async () => {
    const found = await ask(newCall.dataset.suggestSites, { q: site.value });
    offer(document.getElementById("site-options"), found.sites || []);
    showDeadlines();
  };
  site.addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(suggestSites, 200);
  });
  equipment.addEventListener("focus", async () => {
    const found = await ask(newCall.dataset.suggestEquipment, { site: site.value, q: "" });
    offer(document.getElementById("equipment-options"), found.equipment || []);
  });
  const showDeadlines = async () => {
    const chosen = newCall.querySelector("input[name=priority]:checked");
    if (!site.value || !chosen) {
      return;
    }
    const found = await ask(newCall.dataset.deadlines, { site: site.value, priority: chosen.value });
    const due = found.deadlines;
    if (!due) {
      return;
    }
    const title = document.createElement("p");
    title.textContent = fill(previewWords.title, due);
    const list = document.createElement("ul");
    for (const name of ["response", "onsite", "resolve"]) {
      const item = document.createElement("li");
      item.textContent = fill(previewWords[name], { when: due[name] });
      list.append(item);
    }
    preview.replaceChildren(title, list);
  };
  site.addEventListener("change", showDeadlines);
  for (const radio of newCall.querySelectorAll("input[name=priority]")) {
    radio.addEventListener("change", showDeadlines);
  }
  if (site.value) {
    // Typed before this script ran (a slow phone) or kept by the browser on going back.
    suggestSites();
  }
}

"use strict";
(() => {
  const body = document.body;
  const expert = body.dataset.expert;
  const csrf = body.dataset.csrf;
  const $ = (selector, root = document) => root.querySelector(selector);

  // The JSON API, signed in by the session cookie; changes carry the CSRF token.
  async function api(method, path, json) {
    const response = await fetch(path, {
      method,
      credentials: "same-origin",
      headers: Object.assign({ "X-CSRF-Token": csrf }, json ? { "Content-Type": "application/json" } : {}),
      body: json ? JSON.stringify(json) : undefined,
    });
    if (response.ok) return response;
    let problem = { detail: `${response.status} ${response.statusText}` };
    try { problem = await response.json(); } catch (_) {}
    throw problem;
  }

  function showError(element, input, problem) {
    element.textContent = problem.detail || "Something went wrong.";
    element.hidden = false;
    if (input) { input.setAttribute("aria-invalid", "true"); input.focus(); }
  }

  function clearError(element, input) {
    element.hidden = true;
    element.textContent = "";
    if (input) input.removeAttribute("aria-invalid");
  }

  // Which panel shows follows the radio buttons; nothing changes until a form is sent.
  for (const radio of document.querySelectorAll("input[name=integration]")) {
    radio.addEventListener("change", () => {
      $("#calendly-panel").hidden = radio.value !== "calendly";
      $("#native-panel").hidden = radio.value !== "native";
    });
  }

  const calendlyForm = $("#calendly-form");
  calendlyForm?.addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = $("#event-link");
    const error = $("#event-link-error");
    clearError(error, input);
    try {
      await api("PUT", `/experts/${expert}/integration`, { type: "calendly", event_link: input.value.trim() });
      location.reload();
    } catch (problem) { showError(error, input, problem); }
  });

  // The connected account's event types: one tick each; at least one to offer.
  $("#event-types-form")?.addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = $("#event-types-error");
    clearError(error, null);
    const chosen = [...document.querySelectorAll("#event-types-form input[name=event_type]:checked")].map((box) => box.value);
    if (chosen.length === 0) {
      showError(error, null, { detail: "Tick at least one event type, or disconnect Calendly." });
      return;
    }
    try {
      await api("PUT", `/experts/${expert}/integration`, { type: "calendly", event_types: chosen });
      location.reload();
    } catch (problem) { showError(error, null, problem); }
  });

  $("#disconnect")?.addEventListener("click", async () => {
    if (!confirm("Disconnect Calendly? Clients will not be able to book you until you connect again.")) return;
    try {
      await api("DELETE", `/experts/${expert}/integration`);
      location.reload();
    } catch (problem) { showError($("#event-link-error") ?? $("#event-types-error"), null, problem); }
  });

  // Several hours a day: add and remove intervals; a day keeps at least one to edit.
  for (const day of document.querySelectorAll("[data-wday]")) {
    const label = $(".day-name", day).textContent.trim();
    $(".add-interval", day).addEventListener("click", () => {
      const span = $("#interval-template").content.firstElementChild.cloneNode(true);
      $(".from", span).setAttribute("aria-label", `${label} from`);
      $(".to", span).setAttribute("aria-label", `${label} to`);
      $(".intervals", day).append(span);
      $(".day-on", day).checked = true;
      $(".from", span).focus();
    });
    $(".intervals", day).addEventListener("click", (event) => {
      if (!event.target.classList.contains("remove-interval")) return;
      const spans = day.querySelectorAll(".interval");
      if (spans.length > 1) event.target.closest(".interval").remove();
      else $(".day-on", day).checked = false;
    });
  }

  const overrides = $("#overrides");
  $("#add-override")?.addEventListener("click", () => {
    overrides.append($("#override-template").content.cloneNode(true));
    overrides.lastElementChild.querySelector(".date").focus();
  });
  overrides?.addEventListener("click", (event) => {
    if (event.target.classList.contains("remove")) event.target.closest("li").remove();
  });

  $("#native-form")?.addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = $("#native-error");
    clearError(error);
    const rules = [];
    for (const day of document.querySelectorAll("[data-wday]")) {
      const on = $(".day-on", day).checked;
      const intervals = [...day.querySelectorAll(".interval")]
        .map((span) => ({ from: $(".from", span).value, to: $(".to", span).value }));
      rules.push({ type: "wday", wday: day.dataset.wday, intervals: on ? intervals : [] });
    }
    for (const item of overrides.querySelectorAll("li")) {
      const off = $(".off", item).checked;
      rules.push({ type: "date", date: $(".date", item).value,
                   intervals: off ? [] : [{ from: $(".from", item).value, to: $(".to", item).value }] });
    }
    const schedule = {
      timezone: $("#timezone").value,
      duration_minutes: Number($("#duration").value),
      rules, buffer_before_minutes: 0, buffer_after_minutes: 0, min_notice_minutes: 0,
    };
    try {
      await api("PUT", `/experts/${expert}/integration`, { type: "native", schedule });
      location.reload();
    } catch (problem) { showError(error, null, problem); }
  });

  // Calendar feeds: a new address is shown once; each listed one can be revoked.
  const feeds = $("#feeds");
  const feedsError = $("#feeds-error");
  function feedItem(id, createdAt) {
    const item = document.createElement("li");
    item.dataset.feed = id;
    const when = document.createElement("span");
    when.textContent = `Created ${createdAt}`;
    const revoke = document.createElement("button");
    revoke.type = "button";
    revoke.className = "link revoke-feed";
    revoke.textContent = "Revoke";
    revoke.setAttribute("aria-label", `Revoke the calendar address created ${createdAt}`);
    item.append(when, " ", revoke);
    return item;
  }
  $("#create-feed")?.addEventListener("click", async () => {
    clearError(feedsError, null);
    try {
      const created = await (await api("POST", `/experts/${expert}/calendar-feeds`)).json();
      const field = $("#new-feed-url");
      field.value = created.url;
      $("#copy-status").textContent = "";
      $("#new-feed").hidden = false;
      feeds.append(feedItem(created.id, new Date(created.created_at).toLocaleString("en-GB")));
      $("#no-feeds").hidden = true;
      field.focus();
      field.select();
    } catch (problem) { showError(feedsError, null, problem); }
  });
  $("#copy-feed")?.addEventListener("click", async () => {
    const field = $("#new-feed-url");
    field.select();
    try {
      await navigator.clipboard.writeText(field.value);
      $("#copy-status").textContent = "Copied.";
    } catch (_) {
      $("#copy-status").textContent = "Press Ctrl+C (or ⌘C) to copy the selected address.";
    }
  });
  feeds?.addEventListener("click", async (event) => {
    const button = event.target.closest(".revoke-feed");
    if (!button) return;
    if (!confirm("Revoke this calendar address? Calendars subscribed to it stop getting your appointments.")) return;
    clearError(feedsError, null);
    const item = button.closest("li");
    try {
      await api("DELETE", `/experts/${expert}/calendar-feeds/${item.dataset.feed}`);
      item.remove();
      $("#no-feeds").hidden = feeds.children.length > 0;
      $("#create-feed").focus();
    } catch (problem) { showError(feedsError, null, problem); }
  });

  // Live: the projector tells the stream when this expert's appointments change.
  const live = $("#live");
  const stream = new EventSource(`/experts/${expert}/availability-settings/stream`);
  stream.addEventListener("open", () => { live.textContent = "· live"; });
  stream.addEventListener("error", () => { live.textContent = "· reconnecting…"; });
  stream.addEventListener("changed", async () => {
    const before = new Set([...document.querySelectorAll("#appointments tr[id]")].map((row) => row.id));
    const response = await fetch(`/experts/${expert}/availability-settings/appointments`, { credentials: "same-origin" });
    if (!response.ok) return;
    $("#appointments").innerHTML = await response.text();
    for (const row of document.querySelectorAll("#appointments tr[id]")) {
      if (!before.has(row.id)) row.classList.add("fresh");
    }
  });
})();

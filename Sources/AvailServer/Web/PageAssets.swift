/// The settings page's style sheet and script, served from `/assets/`: plain CSS and plain
/// JavaScript, no build step. The script talks to the same JSON API as every other client,
/// signed in by the session cookie and carrying the page's CSRF token.
enum PageAssets {
    static let css = """
        :root { --ink: #1d2330; --muted: #5d6677; --line: #d8dde6; --accent: #1f5fd6; --danger: #b3261e; --bg: #f5f7fa; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: var(--bg); }
        main { max-width: 960px; margin: 0 auto; padding: 1rem; }
        main.narrow { max-width: 28rem; padding-top: 3rem; }
        h1 { font-size: 1.5rem; margin: .5rem 0 1rem; }
        h2 { font-size: 1.15rem; margin: 0 0 .75rem; }
        .bar { display: flex; gap: 1rem; align-items: center; padding: .5rem 1rem; background: #fff; border-bottom: 1px solid var(--line); }
        .bar .brand { font-weight: 700; }
        .bar .who { flex: 1; color: var(--muted); }
        .card { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 1rem 1.25rem; margin-bottom: 1rem; }
        label { display: block; font-weight: 600; margin: .5rem 0 .25rem; }
        input, select, button { font: inherit; }
        input[type=url], input[type=password], input[type=number], input[type=date], input[type=time], select {
          width: 100%; padding: .5rem .6rem; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
        input:focus, select:focus, button:focus-visible, a:focus-visible { outline: 3px solid #9cbcf5; outline-offset: 1px; }
        input[aria-invalid=true] { border-color: var(--danger); }
        button { margin-top: .75rem; padding: .55rem 1rem; border: 0; border-radius: 6px; background: var(--accent); color: #fff; cursor: pointer; }
        button.secondary { background: #e8edf6; color: var(--ink); }
        button.danger { background: var(--danger); }
        a.button { display: inline-block; padding: .55rem 1rem; border-radius: 6px; background: var(--accent); color: #fff; text-decoration: none; }
        a.button:focus-visible { outline: 3px solid var(--ink); outline-offset: 2px; }
        .event-types label { display: block; margin: .35rem 0; }
        button.link { background: none; color: var(--accent); padding: 0; margin: 0; text-decoration: underline; }
        .choices { border: 0; padding: 0; margin: 0 0 .5rem; display: flex; flex-wrap: wrap; gap: .25rem 1.5rem; }
        .choices legend { font-weight: 600; margin-bottom: .25rem; }
        .choices label { font-weight: 400; display: flex; gap: .4rem; align-items: center; }
        .panel { border-top: 1px solid var(--line); padding-top: .75rem; }
        .muted { color: var(--muted); }
        .error { color: var(--danger); font-weight: 600; margin: .25rem 0; }
        .connected { background: #eef6ee; border-radius: 8px; padding: .5rem .75rem; margin-bottom: .75rem; }
        .row { margin-bottom: .5rem; }
        table { width: 100%; border-collapse: collapse; }
        th, td { text-align: left; padding: .4rem .3rem; border-bottom: 1px solid var(--line); vertical-align: middle; }
        .hours, .overrides { border: 0; padding: 0; margin: .75rem 0 0; }
        .hours legend, .overrides legend { font-weight: 600; padding: .5rem 0; }
        .day { display: grid; grid-template-columns: 9rem 1fr auto; gap: .5rem; align-items: start; padding: .4rem 0; border-bottom: 1px solid var(--line); }
        .day-name { display: flex; gap: .4rem; align-items: center; margin: .4rem 0 0; }
        .intervals { display: grid; gap: .35rem; }
        .interval { display: grid; grid-template-columns: 1fr auto 1fr auto; gap: .4rem; align-items: center; }
        .day:not(:has(.day-on:checked)) .intervals { opacity: .45; }
        .add-interval { margin-top: .45rem; }
        .overrides ul { list-style: none; padding: 0; margin: 0; }
        .override { display: grid; grid-template-columns: 1fr 1fr 1fr auto auto; gap: .5rem; align-items: center; margin-bottom: .5rem; }
        .override label { margin: 0; font-weight: 400; display: flex; gap: .3rem; }
        .slots { display: flex; flex-wrap: wrap; gap: .5rem; padding: 0; list-style: none; }
        .slots li { background: #e8edf6; border-radius: 999px; padding: .2rem .75rem; }
        .badge { display: inline-block; border-radius: 4px; padding: 0 .4rem; background: #e8edf6; font-size: .9rem; }
        .status-scheduled .badge:first-child { background: #dcefdc; }
        .status-canceled .badge:first-child { background: #f6dcdc; }
        .status-rescheduled .badge:first-child { background: #f4ecd2; }
        .badge.warn { background: #f8d9b5; }
        .copy-row { display: flex; gap: .5rem; align-items: center; }
        .copy-row input { flex: 1; width: auto; padding: .5rem .6rem; border: 1px solid var(--line); border-radius: 6px; font-family: ui-monospace, monospace; }
        .copy-row button { margin-top: 0; }
        .feeds { list-style: none; padding: 0; margin: .75rem 0 0; }
        .feeds li { display: flex; gap: 1rem; align-items: center; padding: .3rem 0; border-bottom: 1px solid var(--line); }
        tr.fresh { animation: fresh 2s ease-out; }
        @keyframes fresh { from { background: #fff6c2; } to { background: transparent; } }
        @media (max-width: 600px) {
          main { padding: .5rem; }
          .card { padding: .75rem; }
          .override { grid-template-columns: 1fr 1fr; }
          .day { grid-template-columns: 1fr auto; }
          .day .intervals { grid-column: 1 / -1; grid-row: 2; }
          input, select { min-width: 0; }
          .appointments thead { display: none; }
          .appointments tr { display: block; border-bottom: 1px solid var(--line); padding: .4rem 0; }
          .appointments td { display: block; border: 0; padding: .1rem 0; }
        }
        """

    static let script = #"""
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
        """#
}

// The campaign editor, made nicer: questions, answers and outcomes are added, removed and
// moved in place, the "show only when" and "questions it requires" menus follow what is
// typed, the placeholder picker inserts {field} at the cursor, and the preview follows the
// script as it is written. Without this file the same buttons submit the form and the
// server does each step; the server checks everything either way.

// The canonical form of a field name, as crates/domain/src/script.rs matches placeholders.
export function fieldKey(name) {
  let key = "";
  let pendingSeparator = false;
  for (const c of name) {
    if (/[\p{L}\p{N}]/u.test(c)) {
      if (pendingSeparator && key) key += "_";
      pendingSeparator = false;
      key += c.toLowerCase();
    } else {
      pendingSeparator = true;
    }
  }
  return key;
}

// Renders a script with `fields` (keyed by fieldKey): { text } or { error }, by the rules
// of crates/domain/src/script.rs ({name}, {name|fallback}, {{ and }} for braces).
export function renderScript(script, fields) {
  let out = "";
  const chars = [...script];
  for (let i = 0; i < chars.length; i += 1) {
    const c = chars[i];
    if (c === "{" && chars[i + 1] === "{") {
      out += "{";
      i += 1;
    } else if (c === "}" && chars[i + 1] === "}") {
      out += "}";
      i += 1;
    } else if (c === "}") {
      return { error: "The script has a '}' with no '{' before it (write '}}' for a brace)." };
    } else if (c === "{") {
      const close = chars.indexOf("}", i + 1);
      const inner = close < 0 ? null : chars.slice(i + 1, close).join("");
      if (inner === null) return { error: "The script has a '{' that is never closed (write '{{' for a brace)." };
      if (inner.includes("{")) return { error: "The script has a '{' inside a placeholder." };
      const bar = inner.indexOf("|");
      const name = bar < 0 ? inner : inner.slice(0, bar);
      const fallback = bar < 0 ? "" : inner.slice(bar + 1).trim();
      const key = fieldKey(name);
      if (!key) return { error: "The script has a placeholder without a field name." };
      const value = (fields[key] || "").trim();
      out += value || fallback;
      i = close;
    } else {
      out += c;
    }
  }
  return { text: out };
}

let counter = 0;
function newId(prefix) {
  counter += 1;
  return `${prefix}${Date.now().toString(36)}${counter}`;
}

function fromTemplate(name, id) {
  const template = document.querySelector(`template[${name}]`);
  const wrapper = document.createElement("div");
  wrapper.innerHTML = template.innerHTML.replaceAll("__ID__", id);
  return wrapper.firstElementChild;
}

function setUpPreview(form) {
  const script = form.querySelector("[data-script]");
  const preview = form.querySelector("[data-preview]");
  const problem = form.querySelector("[data-preview-error]");
  if (!script || !preview) return () => {};
  let sample = {};
  try {
    sample = JSON.parse(preview.dataset.sample || "{}");
  } catch {
    sample = {};
  }
  const update = () => {
    const rendered = renderScript(script.value, sample);
    if (rendered.error) {
      problem.textContent = rendered.error;
      problem.hidden = false;
    } else {
      preview.textContent = rendered.text;
      problem.hidden = true;
    }
  };
  script.addEventListener("input", update);
  const picker = form.querySelector("[data-placeholder-picker]");
  if (picker) {
    picker.hidden = false;
    picker.addEventListener("click", (event) => {
      const button = event.target.closest("[data-placeholder]");
      if (!button) return;
      const text = `{${button.dataset.placeholder}}`;
      const start = script.selectionStart ?? script.value.length;
      const end = script.selectionEnd ?? start;
      script.setRangeText(text, start, end, "end");
      script.focus();
      update();
    });
  }
  return update;
}

function choiceQuestions(form) {
  return [...form.querySelectorAll("[data-questions] [data-question]")];
}

function questionId(question) {
  return question.querySelector("input[name=q-id]").value;
}

function questionLabel(question) {
  return question.querySelector("[data-question-label]").value.trim();
}

function optionLabels(question) {
  return [...question.querySelectorAll("[data-option-label]")].map((input) => input.value.trim()).filter(Boolean);
}

function checkbox(name, value, label, checked) {
  const wrapper = document.createElement("label");
  wrapper.className = "check";
  const input = document.createElement("input");
  input.type = "checkbox";
  input.name = name;
  input.value = value;
  input.checked = checked;
  wrapper.append(input, ` ${label}`);
  return wrapper;
}

function checkedValues(container) {
  return new Set([...container.querySelectorAll("input:checked")].map((input) => input.value));
}

// Brings numbers, move buttons and every menu up to date with the questions as typed.
function refresh(form) {
  const questions = choiceQuestions(form);
  questions.forEach((question, index) => {
    question.querySelector("[data-number]").textContent = String(index + 1);
    const up = question.querySelector("[data-move=up]");
    const down = question.querySelector("[data-move=down]");
    if (up) up.hidden = index === 0;
    if (down) down.hidden = index === questions.length - 1;
    const isText = question.querySelector("[data-kind]").value === "free_text";
    question.querySelector("[data-options-block]").hidden = isText;
    question.querySelector("[data-max-len-block]").hidden = !isText;

    const menu = question.querySelector("[data-show-if]");
    const current = menu.value;
    menu.replaceChildren(new Option("Always", ""));
    questions.slice(0, index).forEach((earlier, n) => {
      if (earlier.querySelector("[data-kind]").value === "free_text") return;
      const id = questionId(earlier);
      menu.append(new Option(`Only when Question ${n + 1}: ${questionLabel(earlier)} is answered…`, id, false, id === current));
    });
    if (![...menu.options].some((option) => option.value === current)) menu.value = "";

    const answers = question.querySelector("[data-show-if-choices]");
    const chosen = checkedValues(answers);
    const asked = questions.find((q) => questionId(q) === menu.value);
    const labels = asked ? optionLabels(asked) : [];
    answers.replaceChildren(...labels.map((label) => checkbox("q-show_if_answer", label, label, chosen.has(label))));
    question.querySelector("[data-show-if-answers]").hidden = labels.length === 0;
  });
  for (const outcome of form.querySelectorAll("[data-outcomes] [data-outcome]")) {
    const choices = outcome.querySelector("[data-requires-choices]");
    const chosen = checkedValues(choices);
    choices.replaceChildren(
      ...questions
        .filter((q) => questionLabel(q))
        .map((q) => checkbox("o-requires", questionId(q), questionLabel(q), chosen.has(questionId(q)))),
    );
    outcome.querySelector("[data-no-requires]")?.remove();
    outcome.querySelector("[data-cooldown-block]").hidden = outcome.querySelector("[data-effect]").value !== "retry_after";
  }
  form.querySelector("[data-no-questions]")?.toggleAttribute("hidden", questions.length > 0);
}

function addOption(question) {
  const option = fromTemplate("data-option-template", newId("opt"));
  question.querySelector("[data-options]").append(option);
  return option.querySelector("input[name=opt-label]");
}

// What each of the form's buttons does in place; `false` lets the form submit.
function handleAction(form, button, updatePreview) {
  const verb = button.value.split(":")[0];
  const question = button.closest("[data-question]");
  switch (verb) {
    case "preview":
      updatePreview();
      return true;
    case "add-question": {
      const added = fromTemplate("data-question-template", newId("new-"));
      form.querySelector("[data-questions]").append(added);
      addOption(added);
      refresh(form);
      added.querySelector("[data-question-label]").focus();
      return true;
    }
    case "remove-question":
      question.remove();
      refresh(form);
      form.querySelector("[data-add-question]").focus();
      return true;
    case "up":
      question.previousElementSibling?.before(question);
      refresh(form);
      button.hidden ? question.querySelector("[data-move=down]").focus() : button.focus();
      return true;
    case "down":
      question.nextElementSibling?.after(question);
      refresh(form);
      button.hidden ? question.querySelector("[data-move=up]").focus() : button.focus();
      return true;
    case "add-option":
      addOption(question).focus();
      return true;
    case "add-outcome": {
      const added = fromTemplate("data-outcome-template", newId("js"));
      form.querySelector("[data-outcomes]").append(added);
      refresh(form);
      added.querySelector("input[name=o-label]").focus();
      return true;
    }
    case "remove-outcome":
      button.closest("[data-outcome]").remove();
      form.querySelector("[data-add-outcome]").focus();
      return true;
    default:
      return false;
  }
}

export function setUpCampaignEditor() {
  const form = document.querySelector("[data-campaign-editor]");
  if (!form || form.dataset.enhanced) return;
  form.dataset.enhanced = "true";
  const updatePreview = setUpPreview(form);
  form.querySelector("[data-preview-button]")?.setAttribute("hidden", "");
  form.addEventListener("click", (event) => {
    const button = event.target.closest("button[name=action]");
    if (button && handleAction(form, button, updatePreview)) event.preventDefault();
  });
  form.addEventListener("change", (event) => {
    if (event.target.matches("[data-kind], [data-effect], [data-show-if]")) refresh(form);
  });
  form.addEventListener("input", (event) => {
    if (event.target.matches("[data-question-label], [data-option-label]")) refresh(form);
  });
  refresh(form);
}

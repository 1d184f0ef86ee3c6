// The web demo's script: uploads each dropped or chosen image to
// /api/v1/predict (with min_prob 0, so the slider can show any box the model
// kept without a new request), draws boxes and captions in the classes' colours
// from /api/v1/models, filters boxes and table rows live by the slider, and
// offers the answer's JSON and an annotated PNG for download.

enum WebPageScript {
    static let source = #"""
"use strict";
const $ = (id) => document.getElementById(id);
const state = { models: [], results: [] };
const fallbackColors = ["#e6194b", "#3cb44b", "#ffe119", "#0082c8", "#f58230", "#911eb4", "#46f0f0", "#f032e6"];

function threshold() { return parseFloat($("threshold").value); }

function setStatus(text, isError) {
  $("status").textContent = text;
  $("status").className = isError ? "error" : "";
}

function classColor(modelName, id) {
  const model = state.models.find((m) => m.name === modelName);
  const cls = model && model.classes.find((c) => c.id === id);
  return cls ? cls.color : fallbackColors[id % fallbackColors.length];
}

function textColorOn(hex) {
  const n = parseInt(hex.slice(1), 16), r = n >> 16, g = (n >> 8) & 255, b = n & 255;
  return 299 * r + 587 * g + 114 * b > 150000 ? "#000" : "#fff";
}

async function loadModels() {
  try {
    const response = await fetch("/api/v1/models");
    state.models = (await response.json()).models;
    for (const m of state.models) {
      const option = document.createElement("option");
      option.value = m.name;
      option.textContent = m.name + " (" + m.architecture + ", " + m.classes.length + " classes)";
      $("model").appendChild(option);
    }
  } catch (e) {
    setStatus("Could not load the model list: " + e, true);
  }
}

function element(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

function download(name, blob) {
  const a = element("a");
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.appendChild(a);
  a.click();
  setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
}

function baseName(file) { return file.replace(/\.[^.]*$/, "") || "image"; }

// One uploaded image: its section, boxes, table, downloads.
function renderResult(result) {
  const section = element("section", "result");
  section.dataset.file = result.file;
  section.dataset.state = "pending";
  const title = element("h2");
  title.appendChild(element("span", "name", result.file));
  const jsonButton = element("button", "download-json", "Download JSON");
  const imageButton = element("button", "download-image", "Download annotated image");
  jsonButton.disabled = imageButton.disabled = true;
  title.append(jsonButton, imageButton);
  section.appendChild(title);
  const body = element("div", "body");
  const stage = element("div", "stage");
  const img = element("img");
  img.alt = result.file;
  img.src = result.url;
  stage.appendChild(img);
  const side = element("div");
  body.append(stage, side);
  section.appendChild(body);
  $("results").prepend(section);
  result.section = section;
  result.img = img;
  result.stage = stage;
  result.side = side;
  jsonButton.onclick = () => download(baseName(result.file) + ".json",
    new Blob([JSON.stringify(result.answer) + "\n"], { type: "application/json" }));
  imageButton.onclick = () => annotatedPNG(result).then((blob) => download(baseName(result.file) + "-annotated.png", blob));
}

function showAnswer(result) {
  const { answer, stage, side, img } = result;
  const width = img.naturalWidth, height = img.naturalHeight;
  side.textContent = "";
  side.appendChild(element("p", "summary"));
  const table = element("table", "objects");
  const head = element("tr");
  for (const h of ["#", "label", "prob", "x1", "y1", "x2", "y2"]) head.appendChild(element("th", "", h));
  table.appendChild(head);
  answer.objects.forEach((o, i) => {
    const color = classColor(result.model, o.label_id);
    const box = element("div", "box");
    box.dataset.prob = o.prob;
    box.style.borderColor = color;
    box.style.left = (100 * o.bbox[0] / width) + "%";
    box.style.top = (100 * o.bbox[1] / height) + "%";
    box.style.width = (100 * (o.bbox[2] - o.bbox[0]) / width) + "%";
    box.style.height = (100 * (o.bbox[3] - o.bbox[1]) / height) + "%";
    const caption = element("span", "", o.label + " " + o.prob.toFixed(2));
    caption.style.background = color;
    caption.style.color = textColorOn(color);
    box.appendChild(caption);
    stage.appendChild(box);
    const row = element("tr");
    row.dataset.prob = o.prob;
    const label = element("td");
    const swatch = element("span", "swatch");
    swatch.style.background = color;
    label.append(swatch, document.createTextNode(o.label));
    row.append(element("td", "", String(i + 1)), label, element("td", "", o.prob.toFixed(3)),
      ...o.bbox.map((v) => element("td", "", v.toFixed(1))));
    table.appendChild(row);
  });
  side.appendChild(table);
  result.section.querySelectorAll("button").forEach((b) => { b.disabled = false; });
  result.section.dataset.state = "done";
  applyThreshold();
}

// Hides boxes and rows below the slider's value; no request is made.
function applyThreshold() {
  const t = threshold();
  $("threshold-value").textContent = t.toFixed(2);
  for (const result of state.results) {
    if (!result.answer) continue;
    let shown = 0;
    result.section.querySelectorAll(".box, tr[data-prob]").forEach((el) => {
      const hide = parseFloat(el.dataset.prob) < t;
      el.classList.toggle("hidden", hide);
      if (!hide && el.classList.contains("box")) shown++;
    });
    result.section.dataset.visibleBoxes = shown;
    result.section.querySelector(".summary").textContent =
      shown + " of " + result.answer.objects.length + " objects at or above " + t.toFixed(2) + " (model " + result.model + ")";
  }
}

// The image with the visible boxes and captions drawn on it, as a PNG blob.
function annotatedPNG(result) {
  const { img, answer } = result;
  const canvas = document.createElement("canvas");
  canvas.width = img.naturalWidth;
  canvas.height = img.naturalHeight;
  const ctx = canvas.getContext("2d");
  ctx.drawImage(img, 0, 0);
  const line = Math.max(2, Math.round(Math.max(canvas.width, canvas.height) / 400));
  const fontSize = Math.max(12, line * 6);
  ctx.font = fontSize + "px sans-serif";
  ctx.textBaseline = "bottom";
  for (const o of answer.objects) {
    if (o.prob < threshold()) continue;
    const color = classColor(result.model, o.label_id);
    const [x1, y1, x2, y2] = o.bbox;
    ctx.lineWidth = line;
    ctx.strokeStyle = color;
    ctx.strokeRect(x1, y1, x2 - x1, y2 - y1);
    const text = o.label + " " + o.prob.toFixed(2);
    const w = ctx.measureText(text).width + 6;
    const top = Math.max(0, y1 - fontSize - 4);
    ctx.fillStyle = color;
    ctx.fillRect(x1, top, w, fontSize + 4);
    ctx.fillStyle = textColorOn(color);
    ctx.fillText(text, x1 + 3, top + fontSize + 2);
  }
  return new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
}

async function detect(file) {
  const model = $("model").value;
  const result = { file: file.name, model, url: URL.createObjectURL(file) };
  state.results.push(result);
  renderResult(result);
  const form = new FormData();
  form.append("image", file, file.name);
  const query = new URLSearchParams({ min_prob: "0", max_detections: "100" });
  if (model) query.set("model", model);
  try {
    const [response] = await Promise.all([
      fetch("/api/v1/predict?" + query, { method: "POST", body: form }),
      result.img.decode().catch(() => undefined),
    ]);
    const answer = await response.json();
    if (!response.ok) throw new Error(answer.error || response.statusText);
    result.answer = answer;
    showAnswer(result);
    return true;
  } catch (e) {
    result.section.dataset.state = "error";
    result.side.textContent = "";
    result.side.appendChild(element("p", "error", String(e.message || e)));
    return false;
  }
}

async function detectAll(files) {
  const images = Array.from(files);
  let failed = 0;
  for (let i = 0; i < images.length; i++) {
    setStatus("Detecting " + (i + 1) + " of " + images.length + ": " + images[i].name + " ...");
    if (!(await detect(images[i]))) failed++;
  }
  setStatus(images.length + " image" + (images.length === 1 ? "" : "s") + " done" + (failed ? ", " + failed + " failed" : ""), failed > 0);
}

$("file").addEventListener("change", (e) => { detectAll(e.target.files); e.target.value = ""; });
$("threshold").addEventListener("input", applyThreshold);
const drop = $("drop");
for (const type of ["dragenter", "dragover"]) drop.addEventListener(type, (e) => { e.preventDefault(); drop.classList.add("over"); });
for (const type of ["dragleave", "drop"]) drop.addEventListener(type, (e) => { e.preventDefault(); drop.classList.remove("over"); });
drop.addEventListener("drop", (e) => detectAll(e.dataTransfer.files));
loadModels();
"""#
}

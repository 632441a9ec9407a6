// The browser's half of a direct upload: get a signed form from the app server (this page's
// origin), then POST the file straight to OSS (the emulator, another origin).
"use strict";

const $ = (id) => document.getElementById(id);

async function upload(event) {
  event.preventDefault();
  const file = $("file").files[0];
  const version = document.querySelector("input[name=version]:checked").value;
  if (!file) return;
  $("status").textContent = "signing...";
  $("answer").textContent = "";
  $("preview").removeAttribute("src");
  const query = new URLSearchParams({ version, filename: file.name });
  const signed = await fetch(`/api/post-form?${query}`);
  const form = await signed.json();
  if (!signed.ok) {
    $("status").textContent = `signing failed: ${form.error}`;
    return;
  }
  const body = new FormData();
  for (const [name, value] of form.fields) body.append(name, value);
  body.append("file", file); // last, as OSS requires
  $("status").textContent = `uploading ${form.key} (${version})...`;
  let answer;
  try {
    answer = await fetch(form.url, { method: "POST", body });
  } catch (error) {
    $("status").textContent = `upload failed: ${error} (is CORS set for this origin?)`;
    return;
  }
  const text = await answer.text();
  $("answer").textContent = text;
  $("status").textContent = `${answer.status} ${answer.ok ? "uploaded" : "refused"}, ETag ${
    answer.headers.get("ETag")}`;
  $("status").dataset.status = String(answer.status);
  if (answer.ok) {
    $("link").href = $("link").textContent = form.object_url;
    $("preview").src = form.object_url;
  }
}

$("upload").addEventListener("submit", upload);

#!/usr/bin/env node
// Times batch-1 inference of an ONNX model with ONNX Runtime (onnxruntime-node,
// CPU execution provider) on one thread.
//
//   node ort_bench.js [flags] MODEL.onnx
//
// stdout: one Go-benchmark line per repetition, e.g.
//   BenchmarkORT/resnet20 	    1234	    812345 ns/op
// (ns/op is the mean over that repetition's iterations, as `go test -bench`
// reports it), so the output can be fed to benchstat. Everything else
// (session settings, the median/mean/min over all timed iterations, the
// reference check) goes to stderr.
//
// Flags:
//   -name NAME          benchmark name after "BenchmarkORT/" (default: the
//                       model's directory name, or file name without .onnx)
//   -prefix P           benchmark name prefix (default BenchmarkORT)
//   -count N            repetitions, one output line each (default 5)
//   -benchtime D        per repetition: a duration (1s, 500ms) or an
//                       iteration count (200x) (default 1s)
//   -warmup D           before the first repetition, same syntax (default 1s)
//   -threads N          intraOpNumThreads (default 1)
//   -opt LEVEL          graphOptimizationLevel: disabled|basic|extended|layout|all (default all)
//   -check DIR          compare the output on DIR/ref_input.f32 with
//                       DIR/ref_output.f32 (written by export.py); default:
//                       the model's directory if it holds them; "none" to skip
//   -flops N            FLOPs per inference, to print GFLOP/s (default:
//                       2 x MACs from info.json next to the model, if present)
//   -save-optimized F   write ORT's optimized graph to F (inspect it with
//                       onnx_info.py)
//   -profile F          enable ORT's profiler; its JSON goes to F*.json
//   -no-arena           disable the CPU memory arena
//   -max-other C        discard and redo a repetition during which other
//                       processes used more than C CPUs on average (from
//                       /proc/stat minus this process's own CPU time;
//                       default 0.15; 0 turns the check off). On this
//                       2-vCPU VM a busy neighbour vCPU slows a single
//                       thread down by 10-40% even when it keeps its own
//                       CPU to itself, so such a repetition measures the
//                       neighbour as much as ORT.
//   -max-retries N      redo a repetition at most N times, then keep it and
//                       say so (default 20)
'use strict';

const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

function usage(msg) {
  if (msg) console.error(`ort_bench: ${msg}`);
  console.error('usage: node ort_bench.js [-name N] [-count N] [-benchtime 1s|200x] [-warmup 1s] ' +
    '[-threads 1] [-opt all] [-check DIR|none] [-flops N] [-save-optimized F] [-profile F] ' +
    '[-no-arena] [-max-other 0.15] [-max-retries 20] MODEL.onnx');
  process.exit(2);
}

function parseArgs(argv) {
  const a = {
    name: '', prefix: 'BenchmarkORT', count: 5, benchtime: '1s', warmup: '1s', threads: 1,
    opt: 'all', check: '', flops: 0, saveOptimized: '', profile: '', noArena: false, model: '',
    maxOther: 0.15, maxRetries: 20,
  };
  const flags = {
    name: 'name', prefix: 'prefix', count: 'count', benchtime: 'benchtime', warmup: 'warmup',
    threads: 'threads', opt: 'opt', check: 'check', flops: 'flops',
    'save-optimized': 'saveOptimized', profile: 'profile', 'max-other': 'maxOther',
    'max-retries': 'maxRetries',
  };
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    if (!arg.startsWith('-')) {
      if (a.model) usage(`more than one model: ${arg}`);
      a.model = arg;
      continue;
    }
    arg = arg.replace(/^--?/, '');
    let val;
    const eq = arg.indexOf('=');
    if (eq >= 0) { val = arg.slice(eq + 1); arg = arg.slice(0, eq); }
    if (arg === 'no-arena') { a.noArena = true; continue; }
    if (arg === 'h' || arg === 'help') usage();
    const key = flags[arg];
    if (!key) usage(`unknown flag -${arg}`);
    if (val === undefined) {
      if (i + 1 >= argv.length) usage(`flag -${arg} needs a value`);
      val = argv[++i];
    }
    a[key] = val;
  }
  if (!a.model) usage('no model');
  a.count = parseInt(a.count, 10);
  a.threads = parseInt(a.threads, 10);
  a.flops = Number(a.flops);
  a.maxOther = Number(a.maxOther);
  a.maxRetries = parseInt(a.maxRetries, 10);
  if (!(a.count > 0) || !(a.threads > 0)) usage('bad -count or -threads');
  if (!a.name) {
    const dir = path.basename(path.dirname(path.resolve(a.model)));
    const base = path.basename(a.model, '.onnx');
    a.name = base === 'model' ? dir : base;
  }
  return a;
}

// "1s", "500ms", "2.5s", "100x" -> {ns} or {iters}
function parseDuration(s) {
  let m = /^(\d+)x$/.exec(s);
  if (m) return { iters: parseInt(m[1], 10) };
  m = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m)$/.exec(s);
  if (!m) usage(`bad duration ${s}`);
  const mult = { ns: 1, us: 1e3, 'µs': 1e3, ms: 1e6, s: 1e9, m: 60e9 }[m[2]];
  return { ns: parseFloat(m[1]) * mult };
}

// Busy CPU-seconds of the whole machine so far (all CPUs), from /proc/stat.
// USER_HZ is 100 on Linux/x86.
function machineBusy() {
  try {
    const f = fs.readFileSync('/proc/stat', 'latin1');
    const v = f.slice(0, f.indexOf('\n')).trim().split(/\s+/).slice(1, 9).map(Number);
    const total = v.reduce((x, y) => x + y, 0);
    return (total - v[3] - v[4]) / 100; // minus idle, iowait
  } catch (e) {
    return NaN;
  }
}

function ownCPU() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Average CPUs used by other processes over the last ms milliseconds.
async function othersLoad(ms) {
  const b0 = machineBusy(), c0 = ownCPU();
  await sleep(ms);
  return (machineBusy() - b0 - (ownCPU() - c0)) / (ms / 1e3);
}

function readF32(file) {
  const b = fs.readFileSync(file);
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
}

function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

// Go's testing.BenchmarkResult.String layout: name, tab, %8d, tab, %10.0f ns/op
// (one decimal below 100 ns, as Go does).
function goLine(name, n, nsPerOp) {
  const ns = nsPerOp >= 100 ? nsPerOp.toFixed(0) : nsPerOp.toFixed(1);
  return `${name} \t${String(n).padStart(8)}\t${ns.padStart(10)} ns/op`;
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const modelPath = path.resolve(a.model);
  const modelDir = path.dirname(modelPath);

  const opts = {
    executionProviders: ['cpu'],
    intraOpNumThreads: a.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: a.opt,
    enableCpuMemArena: !a.noArena,
    enableMemPattern: true,
  };
  if (a.saveOptimized) opts.optimizedModelFilePath = path.resolve(a.saveOptimized);
  if (a.profile) { opts.enableProfiling = true; opts.profileFilePrefix = a.profile; }

  const t0 = process.hrtime.bigint();
  const session = await ort.InferenceSession.create(modelPath, opts);
  const loadMs = Number(process.hrtime.bigint() - t0) / 1e6;

  const inName = session.inputNames[0];
  const outName = session.outputNames[0];
  const meta = session.inputMetadata && session.inputMetadata[0];
  let dims = meta && meta.shape;
  if (!dims || dims.some((d) => typeof d !== 'number')) usage('model input needs a static shape');
  const numel = dims.reduce((x, y) => x * y, 1);

  // Input: the reference sample when there is one, else deterministic noise.
  let checkDir = a.check;
  if (checkDir === '' && fs.existsSync(path.join(modelDir, 'ref_input.f32'))) checkDir = modelDir;
  if (checkDir === 'none') checkDir = '';
  let data;
  if (checkDir) {
    data = readF32(path.join(checkDir, 'ref_input.f32'));
    if (data.length !== numel) usage(`ref_input.f32 has ${data.length} floats, model wants ${numel}`);
    data = Float32Array.from(data);
  } else {
    data = new Float32Array(numel);
    let s = 1;
    for (let i = 0; i < numel; i++) { s = (s * 1103515245 + 12345) >>> 0; data[i] = s / 2 ** 31 - 1; }
  }
  const feeds = { [inName]: new ort.Tensor('float32', data, dims) };

  const ver = ort.env.versions ? JSON.stringify(ort.env.versions) : '';
  console.error(`# ORT ${ver} node ${process.version} model ${a.model} input ${inName} ` +
    `[${dims}] output ${outName}; intraOp ${a.threads} interOp 1 sequential, opt ${a.opt}, ` +
    `arena ${!a.noArena}; session create ${loadMs.toFixed(1)} ms`);

  if (checkDir) {
    const ref = readF32(path.join(checkDir, 'ref_output.f32'));
    const out = (await session.run(feeds))[outName].data;
    if (out.length !== ref.length) usage(`output has ${out.length} values, reference ${ref.length}`);
    let maxd = 0, maxr = 0;
    for (let i = 0; i < ref.length; i++) {
      maxd = Math.max(maxd, Math.abs(out[i] - ref[i]));
      maxr = Math.max(maxr, Math.abs(ref[i]));
    }
    const rel = maxd / Math.max(maxr, 1e-30);
    console.error(`# check vs PyTorch fused output: max|diff| ${maxd.toExponential(2)}, ` +
      `relative ${rel.toExponential(2)}`);
    if (!(rel < 1e-4)) {
      console.error('ort_bench: output differs from the PyTorch reference');
      process.exit(1);
    }
  }

  let flops = a.flops;
  if (!flops && fs.existsSync(path.join(modelDir, 'info.json'))) {
    flops = 2 * JSON.parse(fs.readFileSync(path.join(modelDir, 'info.json'))).macs;
  }

  const runFor = async (d, sink) => {
    const start = process.hrtime.bigint();
    for (let n = 0; ; n++) {
      if (d.iters !== undefined ? n >= d.iters
        : n > 0 && Number(process.hrtime.bigint() - start) >= d.ns) return n;
      const t = process.hrtime.bigint();
      await session.run(feeds);
      const dt = Number(process.hrtime.bigint() - t);
      if (sink) sink.push(dt);
    }
  };

  await runFor(parseDuration(a.warmup), null);
  const bt = parseDuration(a.benchtime);
  const all = [];
  const repMedians = [];
  const full = `${a.prefix}/${a.name}`;
  let cpuAcc = 0, wallAcc = 0; // over the kept repetitions
  let discarded = 0, noisy = 0;
  for (let r = 0; r < a.count; r++) {
    let times, n, others;
    for (let tries = 0; ; tries++) {
      times = [];
      const b0 = machineBusy(), c0 = ownCPU(), w0 = process.hrtime.bigint();
      n = await runFor(bt, times);
      const wall = Number(process.hrtime.bigint() - w0) / 1e9;
      const own = ownCPU() - c0;
      others = (machineBusy() - b0 - own) / wall;
      if (!(a.maxOther > 0) || !(others > a.maxOther) || tries >= a.maxRetries) {
        cpuAcc += own;
        wallAcc += wall;
      }
      if (!(a.maxOther > 0) || !(others > a.maxOther)) break;
      if (tries >= a.maxRetries) {
        noisy++;
        console.error(`# ${full}: rep ${r + 1} kept although others used ${others.toFixed(2)} CPUs`);
        break;
      }
      discarded++;
      // wait (up to a minute) for a quiet second before redoing it
      for (let w = 0; w < 60 && (await othersLoad(1000)) > a.maxOther; w++);
    }
    const sum = times.reduce((x, y) => x + y, 0);
    console.log(goLine(full, n, sum / n));
    repMedians.push(quantile(times.slice().sort((x, y) => x - y), 0.5));
    for (const t of times) all.push(t);
  }
  const cpuRatio = cpuAcc / wallAcc;
  all.sort((x, y) => x - y);
  const mean = all.reduce((x, y) => x + y, 0) / all.length;
  const med = quantile(all, 0.5);
  const ms = (ns) => (ns / 1e6).toFixed(ns < 1e5 ? 4 : 3);
  const gf = flops ? `; ${(flops / 1e6).toFixed(1)} MFLOP -> ${(flops / med).toFixed(1)} GFLOP/s at the median` : '';
  repMedians.sort((x, y) => x - y);
  console.error(`# ${full}: ${all.length} runs in ${a.count} reps: median ${ms(med)} ms, ` +
    `mean ${ms(mean)} ms, min ${ms(all[0])} ms, p10 ${ms(quantile(all, 0.1))}, ` +
    `p90 ${ms(quantile(all, 0.9))}; rep medians ${ms(repMedians[0])}..` +
    `${ms(repMedians[repMedians.length - 1])} ms${gf}; process CPU/wall ${cpuRatio.toFixed(2)}` +
    (a.maxOther > 0 ? `; ${discarded} reps redone for others' load > ${a.maxOther} CPUs` +
      (noisy ? `, ${noisy} kept noisy` : '') : ''));
  if (a.profile) {
    const f = session.endProfiling ? session.endProfiling() : '';
    console.error(`# profile written${f ? ` to ${f}` : ''}`);
  }
  await session.release();
}

main().catch((e) => { console.error(e); process.exit(1); });

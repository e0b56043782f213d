// council-lora-train: LoRA training on llama.cpp's own training engine (ggml-opt).
//
// How it works (no llama.cpp patches):
//   * the base model (F32, F16 or quantized; llama, qwen2, qwen3; see inspect_base) is loaded normally and
//     stays frozen: the parameter filter given to llama_opt_init rejects every model tensor;
//   * a LoRA adapter (new: A random, B zero; or an existing one to continue) is loaded with
//     llama_adapter_lora_init and set on the context, so model.build_graph puts A/B into the graph;
//   * the adapter's A/B tensors (reached through ab_map, src/llama-adapter.h) are flagged with
//     ggml_set_param: they are the only trainable parameters, trained with AdamW by llama_opt_epoch;
//   * prompt tokens are masked from the loss with a backend-scheduler eval callback: just before the
//     cross-entropy node runs, the label row of every prompt (and padding) position is replaced by the
//     softmax of that row's logits. ggml's cross-entropy gradient is (softmax - label) / rows, so those
//     rows contribute exactly zero gradient; the loss reported here is computed over answer tokens only;
//   * A/B are written to a GGUF adapter (temp file, then rename).
//
// Progress: one JSON object per line on stdout ({"event":"start"|"step"|"epoch"|"done"|"error", ...}).
// Exit codes: 0 ok, 1 TRAINING_FAILED, 2 usage, 3 DATASET_INVALID, 4 MODEL_INVALID, 5 ADAPTER_MISMATCH, 6 DISK_FULL.

#include "ggml-backend.h"
#include "ggml-opt.h"
#include "ggml.h"
#include "gguf.h"
#include "llama.h"

// internal headers of the llama.cpp source tree (this target is built inside it)
#include "llama-adapter.h"
#include "llama-context.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <clocale>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <sys/resource.h>
#include <sys/statvfs.h>
#include <unistd.h>

using json = nlohmann::ordered_json;

namespace {

enum exit_code : int {
    EXIT_OK = 0,
    EXIT_TRAINING_FAILED = 1,
    EXIT_USAGE = 2,
    EXIT_DATASET_INVALID = 3,
    EXIT_MODEL_INVALID = 4,
    EXIT_ADAPTER_MISMATCH = 5,
    EXIT_DISK_FULL = 6,
};

struct train_error : std::runtime_error {
    exit_code code;
    train_error(exit_code code, const std::string & message) : std::runtime_error(message), code(code) {}
};

const char * code_name(exit_code code) {
    switch (code) {
        case EXIT_OK: return "OK";
        case EXIT_USAGE: return "USAGE";
        case EXIT_DATASET_INVALID: return "DATASET_INVALID";
        case EXIT_MODEL_INVALID: return "MODEL_INVALID";
        case EXIT_ADAPTER_MISMATCH: return "ADAPTER_MISMATCH";
        case EXIT_DISK_FULL: return "DISK_FULL";
        default: return "TRAINING_FAILED";
    }
}

void emit(const json & line) {
    std::string text = line.dump(-1, ' ', false, json::error_handler_t::replace);
    fprintf(stdout, "%s\n", text.c_str());
    fflush(stdout);
}

struct options {
    std::string model;
    std::string data;
    std::string out;
    std::string adapter;      // continue from this adapter
    std::string base_sha256;  // recorded in the adapter, checked against a continued adapter
    std::string base_name;
    int rank = 16;
    float alpha = 32.0f;
    std::vector<std::string> targets = {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"};
    int epochs = 8;
    float lr = 1e-3f;
    float lr_min = -1.0f;     // default lr / 10
    float warmup = 0.1f;      // fraction of steps
    float wd = 0.0f;
    float clip = 0.0f;        // max global gradient L2 norm; 0: no clipping
    int ctx = 0;              // 0: smallest multiple of 32 that holds the longest example
    int threads = 0;
    uint32_t seed = 42;
    bool mask_prompt = true;
    bool verbose = false;
};

void usage() {
    fprintf(stderr,
        "usage: council-lora-train --model BASE.gguf --data DATA.jsonl --out ADAPTER.gguf [options]\n"
        "  DATA.jsonl: one {\"prompt\": \"...\", \"completion\": \"...\"} per line; loss on completion tokens only\n"
        "  --adapter PATH     continue training this adapter (rank/alpha/targets come from it)\n"
        "  --rank N           LoRA rank (16)           --alpha F     LoRA alpha (32); scale = alpha/rank\n"
        "  --targets LIST     comma-separated (attn_q,attn_k,attn_v,attn_output,ffn_gate,ffn_up,ffn_down)\n"
        "  --epochs N (8)     --lr F (1e-3)  --lr-min F (lr/10)  --warmup F (0.1 of steps)  --wd F (0)\n"
        "  --clip F           clip the global gradient L2 norm to F before each step (0: off)\n"
        "  --ctx N            context the examples must fit (default: the model's); windows are rounded up to 256\n"
        "  --threads N        --seed N      --no-mask (train on prompt tokens too)\n"
        "  --base-sha256 HEX  --base-name NAME (recorded in the adapter; --adapter must match)\n"
        "  --verbose          llama.cpp logs on stderr\n");
}

options parse_args(int argc, char ** argv) {
    options o;
    auto need = [&](int & i) -> std::string {
        if (i + 1 >= argc) throw train_error(EXIT_USAGE, std::string("missing value for ") + argv[i]);
        return argv[++i];
    };
    auto to_int = [](const std::string & flag, const std::string & v) {
        char * end = nullptr;
        long n = strtol(v.c_str(), &end, 10);
        if (end == v.c_str() || *end != '\0') throw train_error(EXIT_USAGE, flag + " expects an integer, got " + v);
        return (int) n;
    };
    auto to_float = [](const std::string & flag, const std::string & v) {
        char * end = nullptr;
        float f = strtof(v.c_str(), &end);
        if (end == v.c_str() || *end != '\0' || !std::isfinite(f)) throw train_error(EXIT_USAGE, flag + " expects a number, got " + v);
        return f;
    };
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--model") o.model = need(i);
        else if (a == "--data") o.data = need(i);
        else if (a == "--out") o.out = need(i);
        else if (a == "--adapter") o.adapter = need(i);
        else if (a == "--base-sha256") o.base_sha256 = need(i);
        else if (a == "--base-name") o.base_name = need(i);
        else if (a == "--rank") o.rank = to_int(a, need(i));
        else if (a == "--alpha") o.alpha = to_float(a, need(i));
        else if (a == "--targets") {
            o.targets.clear();
            std::stringstream ss(need(i));
            std::string t;
            while (std::getline(ss, t, ',')) if (!t.empty()) o.targets.push_back(t);
        }
        else if (a == "--epochs") o.epochs = to_int(a, need(i));
        else if (a == "--lr") o.lr = to_float(a, need(i));
        else if (a == "--lr-min") o.lr_min = to_float(a, need(i));
        else if (a == "--warmup") o.warmup = to_float(a, need(i));
        else if (a == "--wd") o.wd = to_float(a, need(i));
        else if (a == "--clip") o.clip = to_float(a, need(i));
        else if (a == "--ctx") o.ctx = to_int(a, need(i));
        else if (a == "--threads") o.threads = to_int(a, need(i));
        else if (a == "--seed") o.seed = (uint32_t) to_int(a, need(i));
        else if (a == "--no-mask") o.mask_prompt = false;
        else if (a == "--verbose") o.verbose = true;
        else if (a == "-h" || a == "--help") { usage(); exit(EXIT_OK); }
        else throw train_error(EXIT_USAGE, "unknown argument " + a);
    }
    if (o.model.empty() || o.data.empty() || o.out.empty()) throw train_error(EXIT_USAGE, "--model, --data and --out are required");
    if (o.rank < 1 || o.rank > 4096) throw train_error(EXIT_USAGE, "--rank must be in [1, 4096]");
    if (!(o.alpha > 0)) throw train_error(EXIT_USAGE, "--alpha must be > 0");
    if (o.epochs < 1) throw train_error(EXIT_USAGE, "--epochs must be >= 1");
    if (!(o.lr > 0) || o.lr > 1) throw train_error(EXIT_USAGE, "--lr must be in (0, 1]");
    if (o.lr_min < 0) o.lr_min = o.lr * 0.1f;
    if (o.lr_min > o.lr) throw train_error(EXIT_USAGE, "--lr-min must be <= --lr");
    if (o.warmup < 0 || o.warmup >= 1) throw train_error(EXIT_USAGE, "--warmup must be in [0, 1)");
    if (o.wd < 0 || o.wd > 1) throw train_error(EXIT_USAGE, "--wd must be in [0, 1]");
    if (o.clip < 0) throw train_error(EXIT_USAGE, "--clip must be >= 0");
    if (o.ctx < 0 || (o.ctx > 0 && o.ctx < 8)) throw train_error(EXIT_USAGE, "--ctx must be 0 or >= 8");
    if (o.targets.empty()) throw train_error(EXIT_USAGE, "--targets is empty");
    if (o.threads <= 0) o.threads = std::max(1u, std::thread::hardware_concurrency());
    return o;
}

// ---------------------------------------------------------------------------------------------
// base model inspection (before llama.cpp loads it): architecture, weight types, tensor shapes
//
// The base stays frozen; gradients only flow *through* its matrices: the backward of mul_mat(W, x) for x is
// out_prod(W, dy), so ggml's CPU OUT_PROD must have a kernel for W's type. It has F32, F16 and every
// quantized type (dequantized row by row: Q4_0, Q8_0, Q4_K, ...), but not BF16 (ggml-cpu's supports_op says
// no and ops.cpp has no kernel), so a BF16 base is refused here. Trained in training/real-bases.int.test.ts:
// F16, Q8_0, Q4_0 bases of llama, qwen2 and qwen3. Not trainable with this ggml: gemma2/3 (GEGLU and tanh
// soft-capping have no backward in ggml.c) and phi3 (fused gate+up SwiGLU: ggml's backward only handles split SwiGLU).

const char * const TRAINABLE_ARCHS[] = {"llama", "qwen2", "qwen3"};

bool trainable_weight_type(ggml_type t) {
    if (t == GGML_TYPE_F32 || t == GGML_TYPE_F16) return true;
    // BF16: tried, the backend scheduler aborts (GGML_ASSERT(*cur_backend_id != -1), ggml-backend.cpp): no backend runs OUT_PROD on it
    if (t == GGML_TYPE_BF16) return false;
    return ggml_is_quantized(t);
}

struct base_info {
    std::string arch;
    std::string name;
    std::map<std::string, std::pair<int64_t, int64_t>> weights; // 2-D tensors: name -> (ne0 = in, ne1 = out)
};

base_info inspect_base(const std::string & path) {
    ggml_context * meta = nullptr;
    gguf_init_params params = { /*no_alloc =*/ true, /*ctx =*/ &meta };
    gguf_context * gguf = gguf_init_from_file(path.c_str(), params);
    if (!gguf) throw train_error(EXIT_MODEL_INVALID, "cannot read " + path + " as a GGUF model");
    base_info info;
    auto get_str = [&](const char * key) -> std::string {
        int64_t id = gguf_find_key(gguf, key);
        return id < 0 || gguf_get_kv_type(gguf, id) != GGUF_TYPE_STRING ? "" : gguf_get_val_str(gguf, id);
    };
    info.arch = get_str("general.architecture");
    info.name = get_str("general.name");
    std::string type = get_str("general.type");
    std::string bad;
    for (int64_t i = 0; i < gguf_get_n_tensors(gguf); ++i) {
        const char * name = gguf_get_tensor_name(gguf, i);
        ggml_type t = gguf_get_tensor_type(gguf, i);
        if (!trainable_weight_type(t) && bad.empty()) bad = std::string(name) + " is " + ggml_type_name(t);
        ggml_tensor * tensor = ggml_get_tensor(meta, name);
        if (tensor && ggml_n_dims(tensor) == 2) info.weights[name] = {tensor->ne[0], tensor->ne[1]};
    }
    gguf_free(gguf);
    ggml_free(meta);
    if (type == "adapter") throw train_error(EXIT_MODEL_INVALID, path + " is an adapter, not a base model");
    bool arch_ok = false;
    std::string archs;
    for (const char * a : TRAINABLE_ARCHS) {
        arch_ok = arch_ok || info.arch == a;
        archs += (archs.empty() ? "" : ", ") + std::string(a);
    }
    if (!arch_ok) {
        std::string why;
        if (info.arch.rfind("gemma", 0) == 0) why = " (ggml has no backward for gemma's GEGLU and tanh soft-capping)";
        else if (info.arch == "phi3") why = " (ggml's backward only handles split SwiGLU; phi3 fuses gate and up)";
        throw train_error(EXIT_MODEL_INVALID, path + " has architecture '" + info.arch + "'; the LoRA trainer supports " + archs + why);
    }
    if (!bad.empty()) {
        throw train_error(EXIT_MODEL_INVALID, path + ": " + bad + "; the LoRA trainer cannot backpropagate through that type "
            "(ggml's CPU OUT_PROD has no kernel for it). Supported: F32, F16, Q8_0, Q4_0, Q4_K and the other quantized types; "
            "convert the base with llama-quantize (e.g. to F16 or Q8_0)");
    }
    return info;
}

// ---------------------------------------------------------------------------------------------
// dataset: JSONL {prompt, completion} -> packed training windows with a loss mask

struct example {
    std::vector<llama_token> tokens;
    size_t first_answer = 0; // index of the first completion token in tokens
    int line = 0;
};

std::vector<llama_token> tokenize(const llama_vocab * vocab, const std::string & text, bool add_bos) {
    int n = -llama_tokenize(vocab, text.data(), (int32_t) text.size(), nullptr, 0, add_bos, false);
    std::vector<llama_token> tokens(std::max(n, 0));
    if (n > 0) {
        int got = llama_tokenize(vocab, text.data(), (int32_t) text.size(), tokens.data(), n, add_bos, false);
        if (got < 0) throw train_error(EXIT_TRAINING_FAILED, "tokenization failed");
        tokens.resize(got);
    }
    return tokens;
}

std::vector<example> read_dataset(const std::string & path, const llama_vocab * vocab) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw train_error(EXIT_DATASET_INVALID, "cannot open dataset " + path);
    std::stringstream buffer;
    buffer << in.rdbuf();
    std::string text = buffer.str();
    std::vector<example> examples;
    size_t start = 0;
    int line_no = 0;
    while (start < text.size()) {
        size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        std::string line = text.substr(start, end - start);
        start = end + 1;
        ++line_no;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.find_first_not_of(" \t") == std::string::npos) {
            throw train_error(EXIT_DATASET_INVALID, path + ":" + std::to_string(line_no) + ": empty line");
        }
        json row;
        try {
            row = json::parse(line);
        } catch (const std::exception & e) {
            throw train_error(EXIT_DATASET_INVALID, path + ":" + std::to_string(line_no) + ": not valid JSON (" + e.what() + ")");
        }
        if (!row.is_object() || !row.contains("prompt") || !row.contains("completion") || !row["prompt"].is_string() || !row["completion"].is_string()) {
            throw train_error(EXIT_DATASET_INVALID, path + ":" + std::to_string(line_no) + ": expected {\"prompt\": string, \"completion\": string}");
        }
        std::string prompt = row["prompt"].get<std::string>();
        std::string completion = row["completion"].get<std::string>();
        if (completion.find_first_not_of(" \t\r\n") == std::string::npos) {
            throw train_error(EXIT_DATASET_INVALID, path + ":" + std::to_string(line_no) + ": completion is empty");
        }
        example ex;
        ex.line = line_no;
        // tokenize the whole text (as inference continues the prompt), find where the answer starts
        ex.tokens = tokenize(vocab, prompt + completion, true);
        std::vector<llama_token> prompt_tokens = tokenize(vocab, prompt, true);
        size_t common = 0;
        while (common < prompt_tokens.size() && common < ex.tokens.size() && prompt_tokens[common] == ex.tokens[common]) ++common;
        ex.first_answer = std::max<size_t>(common, 1);
        if (ex.first_answer >= ex.tokens.size()) {
            throw train_error(EXIT_DATASET_INVALID, path + ":" + std::to_string(line_no) + ": completion has no tokens of its own");
        }
        examples.push_back(std::move(ex));
    }
    if (examples.empty()) throw train_error(EXIT_DATASET_INVALID, path + ": no examples");
    return examples;
}

struct window {
    std::vector<llama_token> tokens;  // inputs, n_ctx
    std::vector<llama_token> labels;  // next token, n_ctx
    std::vector<uint8_t> mask;        // 1 where the label is trained on
    int64_t n_trained = 0;
};

// greedy packing in dataset order; an example never spans two windows
std::vector<window> pack(const std::vector<example> & examples, int n_ctx, llama_token pad, bool mask_prompt) {
    std::vector<window> windows;
    window cur;
    auto flush = [&]() {
        if (cur.tokens.empty()) return;
        while ((int) cur.tokens.size() < n_ctx) {
            cur.tokens.push_back(pad);
            cur.labels.push_back(pad);
            cur.mask.push_back(0);
        }
        windows.push_back(std::move(cur));
        cur = window();
    };
    for (const example & ex : examples) {
        if ((int) (cur.tokens.size() + ex.tokens.size()) > n_ctx) flush();
        for (size_t i = 0; i < ex.tokens.size(); ++i) {
            cur.tokens.push_back(ex.tokens[i]);
            bool has_next = i + 1 < ex.tokens.size();
            cur.labels.push_back(has_next ? ex.tokens[i + 1] : pad);
            // position i predicts token i+1: trained when token i+1 belongs to the answer
            uint8_t trained = has_next && (!mask_prompt || i + 1 >= ex.first_answer) ? 1 : 0;
            cur.mask.push_back(trained);
            cur.n_trained += trained;
        }
    }
    flush();
    return windows;
}

// ---------------------------------------------------------------------------------------------
// training state shared with the callbacks (ggml's callbacks carry no user data pointer for epochs)

struct train_state {
    const std::vector<window> * windows = nullptr; // in the order of the current epoch
    int64_t next_window = 0;          // index of the window ggml-opt evaluates next
    int64_t n_vocab = 0;
    int n_ctx = 0;
    bool mask_active = false;
    ggml_tensor * logits = nullptr;   // computed logits of the current step
    double step_loss_sum = 0;         // answer-token loss of the last step
    int64_t step_loss_n = 0;
    double epoch_loss_sum = 0;
    int64_t epoch_loss_n = 0;
    std::string callback_error;
    // schedule
    int64_t step = 0;                 // global optimizer step
    int64_t total_steps = 1;
    int64_t warmup_steps = 0;
    int epoch = 0;
    float lr = 1e-3f, lr_min = 1e-4f, wd = 0.0f, current_lr = 0.0f;
    std::chrono::steady_clock::time_point t_start, t_epoch;
    int64_t epoch_tokens = 0;
    int64_t total_tokens = 0;
    std::vector<double> step_losses;
};

train_state g_state;

float scheduled_lr(const train_state & s) {
    if (s.step < s.warmup_steps) return s.lr * float(s.step + 1) / float(s.warmup_steps);
    const int64_t decay = std::max<int64_t>(1, s.total_steps - s.warmup_steps);
    const double progress = std::min(1.0, double(s.step - s.warmup_steps) / double(decay));
    return float(s.lr_min + 0.5 * (s.lr - s.lr_min) * (1.0 + std::cos(M_PI * progress)));
}

ggml_opt_optimizer_params opt_params_cb(void * userdata) {
    auto & s = *static_cast<train_state *>(userdata);
    ggml_opt_optimizer_params p = ggml_opt_get_default_optimizer_params(nullptr);
    s.current_lr = scheduled_lr(s);
    p.adamw.alpha = s.current_lr;
    p.adamw.wd = s.wd;
    p.sgd.alpha = s.current_lr;
    p.sgd.wd = s.wd;
    return p;
}

bool reject_all_model_tensors(const ggml_tensor *, void *) {
    return false;
}

// Backend scheduler eval callback: sees every graph node. We ask for the logits ("result_output")
// to be computed first, then, when asked about the cross-entropy node (before it runs), rewrite the
// labels of masked rows and compute the answer-only loss.
bool sched_eval_cb(ggml_tensor * t, bool ask, void * userdata) {
    auto & s = *static_cast<train_state *>(userdata);
    if (!s.mask_active) return ask ? false : true;
    if (ask) {
        if (strcmp(t->name, "result_output") == 0) return true;
        if (t->op != GGML_OP_CROSS_ENTROPY_LOSS) return false;
        if (s.logits == nullptr || t->src[0] != s.logits) {
            s.callback_error = "logits were not computed before the loss (unexpected graph layout)";
            return false;
        }
        ggml_tensor * labels = t->src[1];
        if (s.next_window < 0 || s.next_window >= (int64_t) s.windows->size()) {
            s.callback_error = "window index out of range in the loss callback";
            return false;
        }
        const window & w = (*s.windows)[s.next_window];
        const int64_t nv = s.logits->ne[0];
        const int64_t rows = s.logits->ne[1];
        if (rows != s.n_ctx || labels->ne[0] != nv || labels->ne[1] != rows) {
            s.callback_error = "unexpected logits/labels shape in the loss callback";
            return false;
        }
        std::vector<float> logits(nv * rows);
        std::vector<float> lab(nv * rows);
        ggml_backend_tensor_get(s.logits, logits.data(), 0, ggml_nbytes(s.logits));
        ggml_backend_tensor_get(labels, lab.data(), 0, ggml_nbytes(labels));
        s.step_loss_sum = 0;
        s.step_loss_n = 0;
        for (int64_t r = 0; r < rows; ++r) {
            const float * x = logits.data() + r * nv;
            float * y = lab.data() + r * nv;
            float mx = -INFINITY;
            for (int64_t i = 0; i < nv; ++i) mx = std::max(mx, x[i]);
            double sum = 0;
            for (int64_t i = 0; i < nv; ++i) sum += std::exp(double(x[i] - mx));
            if (w.mask[r]) {
                const llama_token target = w.labels[r];
                s.step_loss_sum += -(double(x[target] - mx) - std::log(sum));
                s.step_loss_n += 1;
            } else {
                // label := softmax(logits) makes this row's gradient (softmax - label) exactly zero
                for (int64_t i = 0; i < nv; ++i) y[i] = float(std::exp(double(x[i] - mx)) / sum);
            }
        }
        ggml_backend_tensor_set(labels, lab.data(), 0, ggml_nbytes(labels));
        s.epoch_loss_sum += s.step_loss_sum;
        s.epoch_loss_n += s.step_loss_n;
        s.logits = nullptr;
        return false;
    }
    if (strcmp(t->name, "result_output") == 0) s.logits = t;
    return true;
}

void epoch_cb(bool train, ggml_opt_context_t, ggml_opt_dataset_t, ggml_opt_result_t, int64_t ibatch, int64_t ibatch_max, int64_t) {
    auto & s = g_state;
    if (!train) return;
    s.next_window = ibatch; // one ubatch per window: ibatch windows are done
    s.step += 1;
    s.epoch_tokens += s.n_ctx;
    s.total_tokens += s.n_ctx;
    const double step_loss = s.step_loss_n > 0 ? s.step_loss_sum / double(s.step_loss_n) : NAN;
    s.step_losses.push_back(step_loss);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - s.t_epoch).count();
    json line = {
        {"event", "step"}, {"epoch", s.epoch + 1}, {"step", s.step}, {"steps", s.total_steps},
        {"batch", ibatch}, {"batches", ibatch_max}, {"loss", step_loss}, {"lr", s.current_lr},
        {"tokensPerSecond", secs > 0 ? double(s.epoch_tokens) / secs : 0.0},
    };
    emit(line);
}

void llama_log_cb(ggml_log_level level, const char * text, void * userdata) {
    const bool verbose = userdata != nullptr;
    if (verbose || level == GGML_LOG_LEVEL_ERROR) fputs(text, stderr);
}

int64_t peak_rss_bytes() {
    struct rusage usage {};
    getrusage(RUSAGE_SELF, &usage);
    return int64_t(usage.ru_maxrss) * 1024;
}

void check_free_space(const std::string & path, uint64_t needed) {
    std::string dir = path;
    size_t slash = dir.find_last_of('/');
    dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : dir.substr(0, slash));
    struct statvfs st {};
    if (statvfs(dir.c_str(), &st) != 0) throw train_error(EXIT_TRAINING_FAILED, "output folder " + dir + " does not exist");
    const uint64_t free_bytes = uint64_t(st.f_bavail) * st.f_frsize;
    if (free_bytes < needed) {
        throw train_error(EXIT_DISK_FULL, "not enough free disk space in " + dir + ": need " + std::to_string(needed) + " bytes, " + std::to_string(free_bytes) + " free");
    }
}

// ---------------------------------------------------------------------------------------------
// adapter files

struct adapter_meta {
    std::string arch;
    std::string base_name;
    std::string base_sha256;
    float alpha = 0;
    int rank = 0;
    std::vector<std::string> targets;
};

// Writes A/B (read from their backend buffers) and metadata as a LoRA GGUF: temp file, then rename.
void write_adapter(const std::string & out, const std::vector<std::pair<std::string, llama_adapter_lora_weight>> & weights,
                   const adapter_meta & meta, const json & training) {
    size_t bytes = 0;
    for (const auto & w : weights) bytes += ggml_nbytes(w.second.a) + ggml_nbytes(w.second.b);
    check_free_space(out, bytes + (1u << 20));
    ggml_init_params params = { /*mem_size =*/ bytes + 2 * weights.size() * ggml_tensor_overhead() + 1024, /*mem_buffer =*/ nullptr, /*no_alloc =*/ false };
    ggml_context * ctx = ggml_init(params);
    gguf_context * gguf = gguf_init_empty();
    gguf_set_val_str(gguf, "general.architecture", meta.arch.c_str());
    gguf_set_val_str(gguf, "general.type", "adapter");
    gguf_set_val_str(gguf, "general.name", "council-lora");
    gguf_set_val_str(gguf, "adapter.type", "lora");
    gguf_set_val_f32(gguf, "adapter.lora.alpha", meta.alpha);
    gguf_set_val_u32(gguf, "council.lora.rank", (uint32_t) meta.rank);
    if (!meta.base_name.empty()) gguf_set_val_str(gguf, "council.base.name", meta.base_name.c_str());
    if (!meta.base_sha256.empty()) gguf_set_val_str(gguf, "council.base.sha256", meta.base_sha256.c_str());
    std::string targets;
    for (const auto & t : meta.targets) targets += (targets.empty() ? "" : ",") + t;
    gguf_set_val_str(gguf, "council.lora.targets", targets.c_str());
    gguf_set_val_str(gguf, "council.training", training.dump().c_str());
    for (const auto & w : weights) {
        for (int which = 0; which < 2; ++which) {
            ggml_tensor * src = which == 0 ? w.second.a : w.second.b;
            ggml_tensor * dst = ggml_new_tensor_2d(ctx, GGML_TYPE_F32, src->ne[0], src->ne[1]);
            ggml_set_name(dst, (w.first + (which == 0 ? ".lora_a" : ".lora_b")).c_str());
            ggml_backend_tensor_get(src, dst->data, 0, ggml_nbytes(src));
            for (int64_t i = 0; i < ggml_nelements(dst); ++i) {
                if (!std::isfinite(((float *) dst->data)[i])) {
                    gguf_free(gguf);
                    ggml_free(ctx);
                    throw train_error(EXIT_TRAINING_FAILED, "training diverged: " + std::string(ggml_get_name(dst)) + " has non-finite values (lower --lr)");
                }
            }
            gguf_add_tensor(gguf, dst);
        }
    }
    const std::string tmp = out + ".tmp-" + std::to_string(getpid());
    errno = 0;
    const bool written = gguf_write_to_file(gguf, tmp.c_str(), false);
    const int saved_errno = errno;
    gguf_free(gguf);
    ggml_free(ctx);
    if (!written) {
        unlink(tmp.c_str());
        if (saved_errno == ENOSPC || saved_errno == EDQUOT) throw train_error(EXIT_DISK_FULL, "disk full while writing " + out);
        throw train_error(EXIT_TRAINING_FAILED, "cannot write " + tmp + ": " + strerror(saved_errno));
    }
    if (rename(tmp.c_str(), out.c_str()) != 0) {
        const int e = errno;
        unlink(tmp.c_str());
        throw train_error(EXIT_TRAINING_FAILED, "cannot rename " + tmp + " to " + out + ": " + strerror(e));
    }
}

// A fresh adapter: A ~ U(-1/sqrt(in), 1/sqrt(in)) (PEFT's Kaiming-uniform bound), B = 0, so training
// starts from the base model's behaviour.
std::string write_initial_adapter(const options & o, const base_info & base, adapter_meta & meta) {
    std::vector<std::string> names;
    for (const auto & target : o.targets) {
        size_t found = 0;
        for (const auto & kv : base.weights) {
            const std::string & name = kv.first;
            const std::string suffix = "." + target + ".weight";
            if (name == target || (name.rfind("blk.", 0) == 0 && name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)) {
                names.push_back(name);
                ++found;
            }
        }
        if (found == 0) throw train_error(EXIT_USAGE, "LoRA target '" + target + "' matches no 2-D tensor of the base model");
    }
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    size_t bytes = 0;
    for (const auto & n : names) {
        const auto & shape = base.weights.at(n);
        bytes += (size_t(shape.first) + size_t(shape.second)) * o.rank * sizeof(float);
    }
    ggml_init_params params = { bytes + 2 * names.size() * ggml_tensor_overhead() + 1024, nullptr, false };
    ggml_context * ctx = ggml_init(params);
    gguf_context * gguf = gguf_init_empty();
    gguf_set_val_str(gguf, "general.architecture", base.arch.c_str());
    gguf_set_val_str(gguf, "general.type", "adapter");
    gguf_set_val_str(gguf, "adapter.type", "lora");
    gguf_set_val_f32(gguf, "adapter.lora.alpha", o.alpha);
    std::mt19937 rng(o.seed);
    for (const auto & n : names) {
        const int64_t in = base.weights.at(n).first, out = base.weights.at(n).second;
        ggml_tensor * a = ggml_new_tensor_2d(ctx, GGML_TYPE_F32, in, o.rank);
        ggml_tensor * b = ggml_new_tensor_2d(ctx, GGML_TYPE_F32, o.rank, out);
        ggml_set_name(a, (n + ".lora_a").c_str());
        ggml_set_name(b, (n + ".lora_b").c_str());
        std::uniform_real_distribution<float> dist(-1.0f / std::sqrt(float(in)), 1.0f / std::sqrt(float(in)));
        for (int64_t i = 0; i < ggml_nelements(a); ++i) ((float *) a->data)[i] = dist(rng);
        memset(b->data, 0, ggml_nbytes(b));
        gguf_add_tensor(gguf, a);
        gguf_add_tensor(gguf, b);
    }
    const std::string path = o.out + ".init-" + std::to_string(getpid());
    check_free_space(o.out, bytes + (1u << 20));
    const bool ok = gguf_write_to_file(gguf, path.c_str(), false);
    gguf_free(gguf);
    ggml_free(ctx);
    if (!ok) {
        unlink(path.c_str());
        throw train_error(errno == ENOSPC ? EXIT_DISK_FULL : EXIT_TRAINING_FAILED, "cannot write the initial adapter " + path);
    }
    meta.alpha = o.alpha;
    meta.rank = o.rank;
    meta.targets = o.targets;
    return path;
}

std::string adapter_str(const llama_adapter_lora * adapter, const char * key) {
    char buf[512];
    int n = llama_adapter_meta_val_str(adapter, key, buf, sizeof(buf));
    return n < 0 ? "" : std::string(buf);
}

int run(const options & o) {
    const auto t_begin = std::chrono::steady_clock::now();
    const base_info base = inspect_base(o.model);

    llama_backend_init();
    llama_model_params mparams = llama_model_default_params();
    mparams.load_mode = LLAMA_LOAD_MODE_NONE;
    mparams.n_gpu_layers = 0;
    // no repacked weight buffers (CPU_REPACK turns Q4_0/Q8_0/... into interleaved layouts that only the
    // forward mul_mat kernels read): the backward's OUT_PROD must see the file's own block layout
    mparams.use_extra_bufts = false;
    llama_model * model = llama_model_load_from_file(o.model.c_str(), mparams);
    if (!model) throw train_error(EXIT_MODEL_INVALID, "llama.cpp cannot load " + o.model);
    const llama_vocab * vocab = llama_model_get_vocab(model);

    std::vector<example> examples = read_dataset(o.data, vocab);
    size_t longest = 0;
    int longest_line = 0;
    for (const auto & ex : examples) {
        if (ex.tokens.size() > longest) { longest = ex.tokens.size(); longest_line = ex.line; }
    }
    // an example must fit the context the model serves with (or --ctx); training windows are that size
    // rounded up to a multiple of 256 (llama.cpp pads every context to 256), packed with whole examples
    const int n_ctx_model = llama_model_n_ctx_train(model);
    const int n_ctx_limit = o.ctx > 0 ? o.ctx : n_ctx_model;
    if ((int) longest > n_ctx_limit) {
        throw train_error(EXIT_DATASET_INVALID, o.data + ":" + std::to_string(longest_line) + ": example is " + std::to_string(longest) +
            " tokens, longer than the context (" + std::to_string(n_ctx_limit) + ")");
    }
    const int n_ctx = int((std::max<size_t>(longest, size_t(o.ctx)) + 255) / 256 * 256);

    // the adapter: continue an existing one or create a fresh one
    adapter_meta meta;
    meta.arch = base.arch;
    meta.base_name = o.base_name.empty() ? base.name : o.base_name;
    meta.base_sha256 = o.base_sha256;
    std::string init_path;
    llama_adapter_lora * adapter = nullptr;
    if (!o.adapter.empty()) {
        adapter = llama_adapter_lora_init(model, o.adapter.c_str());
        if (!adapter) throw train_error(EXIT_ADAPTER_MISMATCH, "adapter " + o.adapter + " does not load onto " + o.model + " (wrong base model or not a LoRA adapter)");
        const std::string recorded = adapter_str(adapter, "council.base.sha256");
        if (!recorded.empty() && !o.base_sha256.empty() && recorded != o.base_sha256) {
            throw train_error(EXIT_ADAPTER_MISMATCH, "adapter " + o.adapter + " was trained on base " + recorded + ", not " + o.base_sha256);
        }
        meta.alpha = adapter->alpha;
        for (const auto & kv : adapter->ab_map) meta.rank = int(kv.second.b->ne[0]);
        std::string targets = adapter_str(adapter, "council.lora.targets");
        std::stringstream ss(targets);
        std::string t;
        while (std::getline(ss, t, ',')) if (!t.empty()) meta.targets.push_back(t);
    } else {
        init_path = write_initial_adapter(o, base, meta);
        adapter = llama_adapter_lora_init(model, init_path.c_str());
        unlink(init_path.c_str());
        if (!adapter) throw train_error(EXIT_TRAINING_FAILED, "llama.cpp rejected the freshly created adapter");
    }

    llama_context_params cparams = llama_context_default_params();
    cparams.n_ctx = n_ctx;
    cparams.n_batch = n_ctx;
    cparams.n_ubatch = n_ctx;
    cparams.n_seq_max = 1;
    cparams.n_threads = o.threads;
    cparams.n_threads_batch = o.threads;
    cparams.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
    cparams.type_k = GGML_TYPE_F32;
    cparams.type_v = GGML_TYPE_F32;
    cparams.cb_eval = sched_eval_cb;
    cparams.cb_eval_user_data = &g_state;
    cparams.no_perf = true;
    llama_context * ctx = llama_init_from_model(model, cparams);
    if (!ctx) throw train_error(EXIT_TRAINING_FAILED, "cannot create a llama.cpp context");
    if ((int) llama_n_ctx(ctx) != n_ctx) throw train_error(EXIT_TRAINING_FAILED, "llama.cpp changed the context size to " + std::to_string(llama_n_ctx(ctx)));
    llama_adapter_lora * adapters[1] = {adapter};
    float scales[1] = {1.0f};
    if (llama_set_adapters_lora(ctx, adapters, 1, scales) != 0) throw train_error(EXIT_TRAINING_FAILED, "cannot set the adapter on the context");

    // the adapter's A/B are the only trainable parameters
    std::vector<std::pair<std::string, llama_adapter_lora_weight>> weights(adapter->ab_map.begin(), adapter->ab_map.end());
    std::sort(weights.begin(), weights.end(), [](const auto & x, const auto & y) { return x.first < y.first; });
    int64_t trainable = 0;
    for (auto & w : weights) {
        ggml_set_param(w.second.a);
        ggml_set_param(w.second.b);
        trainable += ggml_nelements(w.second.a) + ggml_nelements(w.second.b);
    }

    const llama_token pad = llama_vocab_eos(vocab) >= 0 ? llama_vocab_eos(vocab) : 0;
    std::vector<window> windows = pack(examples, n_ctx, pad, o.mask_prompt);
    int64_t trained_tokens = 0;
    for (const auto & w : windows) trained_tokens += w.n_trained;

    g_state.n_ctx = n_ctx;
    g_state.n_vocab = llama_vocab_n_tokens(vocab);
    g_state.lr = o.lr;
    g_state.lr_min = o.lr_min;
    g_state.wd = o.wd;
    g_state.total_steps = int64_t(windows.size()) * o.epochs;
    g_state.warmup_steps = int64_t(std::floor(o.warmup * float(g_state.total_steps)));

    llama_opt_params lopt = {};
    lopt.n_ctx_train = 0;
    lopt.param_filter = reject_all_model_tensors;
    lopt.param_filter_ud = nullptr;
    lopt.get_opt_pars = opt_params_cb;
    lopt.get_opt_pars_ud = &g_state;
    lopt.optimizer_type = GGML_OPT_OPTIMIZER_TYPE_ADAMW;
    // read by ggml-opt when it builds the optimizer graph (native/llama-patches/0002-ggml-opt-gradients.patch)
    if (o.clip > 0) {
        char clip_text[32];
        snprintf(clip_text, sizeof(clip_text), "%.9g", o.clip); // std::to_string would print 1e-9 as "0.000000"
        setenv("GGML_OPT_MAX_GRAD_NORM", clip_text, 1);
    }
    else unsetenv("GGML_OPT_MAX_GRAD_NORM");
    llama_opt_init(ctx, model, lopt);
    ggml_backend_sched_set_eval_callback(ctx->get_sched(), sched_eval_cb, &g_state);

    emit({
        {"event", "start"}, {"examples", examples.size()}, {"windows", windows.size()}, {"ctx", n_ctx},
        {"trainedTokens", trained_tokens}, {"trainableParams", trainable}, {"modelParams", llama_model_n_params(model)},
        {"rank", meta.rank}, {"alpha", meta.alpha}, {"targets", meta.targets}, {"tensors", weights.size() * 2},
        {"epochs", o.epochs}, {"steps", g_state.total_steps}, {"lr", o.lr}, {"lrMin", o.lr_min}, {"warmupSteps", g_state.warmup_steps}, {"clip", o.clip},
        {"maskPrompt", o.mask_prompt}, {"threads", o.threads},
    });

    ggml_opt_dataset_t dataset = ggml_opt_dataset_init(GGML_TYPE_I32, GGML_TYPE_I32, n_ctx, n_ctx, (int64_t) windows.size(), 1);
    ggml_opt_result_t result_train = ggml_opt_result_init();
    ggml_opt_result_t result_eval = ggml_opt_result_init();
    std::vector<window> order = windows;
    std::mt19937 rng(o.seed);
    json epochs = json::array();
    g_state.t_start = std::chrono::steady_clock::now();
    for (int epoch = 0; epoch < o.epochs; ++epoch) {
        std::shuffle(order.begin(), order.end(), rng);
        llama_token * data = (llama_token *) ggml_opt_dataset_data(dataset)->data;
        llama_token * labels = (llama_token *) ggml_opt_dataset_labels(dataset)->data;
        for (size_t i = 0; i < order.size(); ++i) {
            memcpy(data + i * n_ctx, order[i].tokens.data(), n_ctx * sizeof(llama_token));
            memcpy(labels + i * n_ctx, order[i].labels.data(), n_ctx * sizeof(llama_token));
        }
        g_state.windows = &order;
        g_state.next_window = 0;
        g_state.epoch = epoch;
        g_state.epoch_loss_sum = 0;
        g_state.epoch_loss_n = 0;
        g_state.epoch_tokens = 0;
        g_state.logits = nullptr;
        g_state.mask_active = true;
        g_state.t_epoch = std::chrono::steady_clock::now();
        llama_opt_epoch(ctx, dataset, result_train, result_eval, (int64_t) order.size(), epoch_cb, nullptr);
        g_state.mask_active = false;
        if (!g_state.callback_error.empty()) throw train_error(EXIT_TRAINING_FAILED, g_state.callback_error);
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - g_state.t_epoch).count();
        const double loss = g_state.epoch_loss_n > 0 ? g_state.epoch_loss_sum / double(g_state.epoch_loss_n) : NAN;
        if (!std::isfinite(loss)) throw train_error(EXIT_TRAINING_FAILED, "training diverged at epoch " + std::to_string(epoch + 1) + " (loss is not finite; lower --lr)");
        const double tps = secs > 0 ? double(g_state.epoch_tokens) / secs : 0.0;
        json e = {{"event", "epoch"}, {"epoch", epoch + 1}, {"epochs", o.epochs}, {"loss", loss}, {"seconds", secs}, {"tokensPerSecond", tps}, {"lr", g_state.current_lr}};
        emit(e);
        epochs.push_back({{"epoch", epoch + 1}, {"loss", loss}, {"seconds", secs}, {"tokensPerSecond", tps}});
        ggml_opt_result_reset(result_train);
        ggml_opt_result_reset(result_eval);
    }
    ggml_opt_result_free(result_train);
    ggml_opt_result_free(result_eval);
    ggml_opt_dataset_free(dataset);

    const double train_secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - g_state.t_start).count();
    json training = {
        {"epochs", o.epochs}, {"lr", o.lr}, {"lrMin", o.lr_min}, {"ctx", n_ctx}, {"examples", examples.size()},
        {"maskPrompt", o.mask_prompt}, {"finalLoss", epochs.back()["loss"]},
    };
    write_adapter(o.out, weights, meta, training);

    const double total_secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_begin).count();
    emit({
        {"event", "done"}, {"adapter", o.out}, {"epochs", epochs}, {"trainSeconds", train_secs}, {"seconds", total_secs},
        {"tokens", g_state.total_tokens}, {"trainedTokens", trained_tokens * o.epochs},
        {"tokensPerSecond", train_secs > 0 ? double(g_state.total_tokens) / train_secs : 0.0},
        {"peakRssBytes", peak_rss_bytes()}, {"trainableParams", trainable}, {"modelParams", llama_model_n_params(model)},
        {"rank", meta.rank}, {"alpha", meta.alpha}, {"targets", meta.targets}, {"ctx", n_ctx}, {"windows", windows.size()},
    });

    llama_free(ctx);
    llama_model_free(model);
    llama_backend_free();
    return EXIT_OK;
}

} // namespace

int main(int argc, char ** argv) {
    std::setlocale(LC_NUMERIC, "C");
    try {
        options o = parse_args(argc, argv);
        llama_log_set(llama_log_cb, o.verbose ? (void *) 1 : nullptr);
        return run(o);
    } catch (const train_error & e) {
        if (e.code == EXIT_USAGE) usage();
        emit({{"event", "error"}, {"code", code_name(e.code)}, {"message", e.what()}});
        return e.code;
    } catch (const std::exception & e) {
        emit({{"event", "error"}, {"code", code_name(EXIT_TRAINING_FAILED)}, {"message", e.what()}});
        return EXIT_TRAINING_FAILED;
    }
}

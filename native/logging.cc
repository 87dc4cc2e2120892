// llama.cpp's log: kept quiet unless asked for, with the last error kept for messages.
#include <cstdio>
#include <mutex>

#include "binding.h"

namespace verispec {
namespace {

std::mutex g_log_mutex;
std::string g_last_error;
bool g_verbose = false;

void log_callback(ggml_log_level level, const char *text, void *) {
  if (g_verbose) fputs(text, stderr);
  if (level != GGML_LOG_LEVEL_ERROR && level != GGML_LOG_LEVEL_CONT) return;
  std::lock_guard<std::mutex> lock(g_log_mutex);
  if (level == GGML_LOG_LEVEL_ERROR) g_last_error.clear();
  g_last_error += text;
  if (g_last_error.size() > 2000) g_last_error.erase(0, g_last_error.size() - 2000);
}

}  // namespace

std::string take_last_error() {
  std::lock_guard<std::mutex> lock(g_log_mutex);
  std::string out = g_last_error;
  g_last_error.clear();
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}


void install_log(bool verbose) {
  g_verbose = verbose;
  llama_log_set(log_callback, nullptr);
}

}  // namespace verispec

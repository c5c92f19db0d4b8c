#include "model/crnn.h"

#include "common/error.h"
#include "model/batch_norm.h"
#include "model/batch_norm_pool.h"
#include "model/conv3x3.h"
#include "model/dropout.h"
#include "model/elu_dropout.h"
#include "model/first_conv.h"
#include "model/first_conv_pool.h"
#include "model/winograd_conv.h"

namespace genre {

ConvBlockImpl::ConvBlockImpl(int in_channels, int out_channels, std::pair<int, int> pool_size,
                             double bn_eps, double dropout_p, bool use_relu)
    : relu(use_relu) {
  conv = register_module(
      "conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(in_channels, out_channels, 3).padding(1)));
  bn = register_module(
      "bn", torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(out_channels).eps(bn_eps)));
  pool = register_module(
      "pool",
      torch::nn::MaxPool2d(torch::nn::MaxPool2dOptions({pool_size.first, pool_size.second})));
  dropout = register_module("dropout", torch::nn::Dropout(dropout_p));
}

namespace {

// Inputs longer than this many frames go through the inference form in slices.
constexpr int64_t kSliceFrames = 256;

// The inference form's conv (batch norm folded in) -> max-pool, with the conv's zero padding.
// x may be a slice of frames of a channels-last tensor: Winograd's conv reads it in place.
torch::Tensor conv_pool(ConvBlockImpl& block, torch::Tensor x, ConvPadding padding) {
  if (block.winograd_weight.defined() && winograd_conv3x3_applies(x, block.folded_weight))
    return block.pool(winograd_conv3x3(x, block.winograd_weight, block.folded_bias, padding));
  // conv2d pads both sides alike: a slice's own frame padding is added here.
  if (padding.left != padding.right) {
    x = torch::constant_pad_nd(x, {padding.left, padding.right});
    padding.left = padding.right = 0;
  }
  TORCH_CHECK(padding.top == padding.bottom, "conv_pool: uneven padding of the mels");
  if (block.folded_channels_last) {
    if (x.size(1) == 1) {
      // A one-channel input is both NCHW and NHWC, and the conv then picks NCHW for its output,
      // where max-pooling is ~4x slower; strides that say NHWC keep the stack channels-last.
      x = x.contiguous();
      x = x.as_strided(x.sizes(), {x.size(2) * x.size(3), 1, x.size(3), 1});
    } else {
      x = x.contiguous(torch::MemoryFormat::ChannelsLast);  // a slice of NHWC is not contiguous
    }
  }
  return block.pool(
      torch::conv2d(x, block.folded_weight, block.folded_bias, 1, {padding.top, padding.left}));
}

// The conv's full-resolution output is the largest activation of the model (64 channels x 96
// mels x 1,813 frames, 44.5 MB, for a 29 s excerpt) and lives only until it is pooled: computed
// a slice of frames at a time it never exists whole, which about halves a model worker's peak
// memory. A slice reads one frame either side (the 3x3 conv's reach; zeros at the ends, as the
// "same" padding gives) and starts on a pooling boundary, so every output is the same sum.
torch::Tensor conv_pool_in_slices(ConvBlockImpl& block, const torch::Tensor& x) {
  const int64_t frames = x.size(3), width = block.pool->options.kernel_size()->at(1);
  const int64_t used = frames / width * width;  // max-pool drops the frames past its last window
  const int64_t slice = std::max<int64_t>(width, kSliceFrames / width * width);
  if (used <= slice) return conv_pool(block, x, ConvPadding{});
  // Each pooled slice goes straight into its place in the output: no list of pieces to join,
  // which held the pooled output twice.
  torch::Tensor out;
  for (int64_t start = 0; start < used; start += slice) {
    const int64_t length = std::min(slice, used - start);
    const int64_t first = std::max<int64_t>(0, start - 1);
    const int64_t end = std::min(frames, start + length + 1);
    const int64_t pad_left = start == 0 ? 1 : 0, pad_right = start + length + 1 - end;
    const torch::Tensor pooled =
        conv_pool(block, x.narrow(3, first, end - first), ConvPadding{1, 1, pad_left, pad_right});
    if (!out.defined()) {
      std::vector<int64_t> sizes = pooled.sizes().vec();
      sizes[3] = used / width;
      out = torch::empty(sizes, pooled.options().memory_format(pooled.suggest_memory_format()));
    }
    out.narrow(3, start / width, length / width).copy_(pooled);
  }
  return out;
}

// A plain max-pool: stride = window, no padding or dilation, partial windows dropped.
bool plain_pool(const torch::nn::MaxPool2d& pool) {
  const auto& o = pool->options;
  const auto &window = *o.kernel_size(), &stride = *o.stride(), &padding = *o.padding(),
             &dilation = *o.dilation();
  return stride == window && padding[0] == 0 && padding[1] == 0 && dilation[0] == 1 &&
         dilation[1] == 1 && !o.ceil_mode();
}

}  // namespace

torch::Tensor ConvBlockImpl::forward(torch::Tensor x) {
  if (folded_weight.defined() && !is_training()) {
    // One input channel: conv and pool in one pass, the full-size conv output never written.
    if (folded_channels_last && first_conv_pool_applies(x, folded_weight) && plain_pool(pool)) {
      const auto window = *pool->options.kernel_size();
      x = first_conv_pool(x, folded_weight, folded_bias, {window[0], window[1]});
    } else {
      x = conv_pool_in_slices(*this, x);
    }
    return relu ? torch::relu_(x) : torch::elu_(x);
  }
  // A training step's convs are genre's where LibTorch's is slow: the first conv for its one
  // input channel (first_conv.h); the others' Winograd forward and input gradient and their
  // weight gradient (conv3x3.h). Evaluation outside the inference form keeps LibTorch's.
  const bool training_step = is_training() && torch::GradMode::is_enabled();
  if (training_step && first_conv3x3_applies(x, conv->weight))
    x = first_conv3x3(x, conv->weight, conv->bias);
  else if (training_step && conv3x3_training_applies(x, conv->weight))
    x = conv3x3_training(x, conv->weight, conv->bias);
  else
    x = conv(x);
  // Max-pool before the activation: ELU and ReLU are non-decreasing, so the maxima are the same,
  // and the activation (forward and backward) runs on a quarter or less of the values. Batch
  // norm and max-pool run as one op where they can (batch_norm_pool.h).
  x = batch_norm_max_pool_applies(bn, pool, x) ? batch_norm_max_pool(bn, pool, x)
                                               : pool(apply_batch_norm(bn, x));
  const double p = dropout->options.p();
  if (!relu && is_training() && p > 0 && elu_dropout_applies(x))
    return elu_dropout(x, p);  // one op: no mask tensor, one pass backwards (elu_dropout.h)
  x = relu ? torch::relu(x) : torch::elu(x);
  return hashed_dropout(x, p, is_training());
}

void ConvBlockImpl::fold_batch_norm(bool channels_last) {
  torch::NoGradGuard no_grad;
  const torch::Tensor scale = bn->weight / torch::sqrt(bn->running_var + bn->options.eps());
  folded_weight = conv->weight * scale.view({-1, 1, 1, 1});
  if (channels_last) folded_weight = folded_weight.contiguous(torch::MemoryFormat::ChannelsLast);
  folded_channels_last = channels_last;
  folded_bias = (conv->bias - bn->running_mean) * scale + bn->bias;
  winograd_weight = channels_last && winograd_weight_applies(folded_weight)
                        ? winograd_weights(folded_weight)
                        : torch::Tensor();
}

void ConvBlockImpl::train(bool on) {
  if (on) folded_weight = folded_bias = winograd_weight = torch::Tensor();
  torch::nn::Module::train(on);
}

Keras1GruImpl::Keras1GruImpl(int input_size, int hidden) : hidden_size(hidden) {
  // Keras 1 defaults: glorot_uniform for W, orthogonal for U, zeros for b.
  const double limit = std::sqrt(6.0 / (input_size + hidden));
  W = register_parameter("W", torch::empty({input_size, 3 * hidden}).uniform_(-limit, limit));
  torch::Tensor u = torch::empty({hidden, 3 * hidden});
  for (int g = 0; g < 3; ++g) {
    torch::Tensor block = torch::empty({hidden, hidden});
    torch::nn::init::orthogonal_(block);
    u.narrow(1, g * hidden, hidden).copy_(block);
  }
  U = register_parameter("U", u);
  b = register_parameter("b", torch::zeros({3 * hidden}));
}

torch::Tensor Keras1GruImpl::forward(torch::Tensor x) {
  const auto H = hidden_size;
  const torch::Tensor projected = torch::matmul(x, W) + b;  // [B, T, 3H]
  const torch::Tensor U_zr = U.narrow(1, 0, 2 * H), U_h = U.narrow(1, 2 * H, H);
  auto hard_sigmoid = [](const torch::Tensor& a) { return torch::clamp(a * 0.2 + 0.5, 0.0, 1.0); };
  torch::Tensor h = torch::zeros({x.size(0), H}, x.options());
  std::vector<torch::Tensor> states;
  states.reserve(x.size(1));
  for (int64_t t = 0; t < x.size(1); ++t) {
    const torch::Tensor p = projected.select(1, t);
    const torch::Tensor zr = hard_sigmoid(p.narrow(1, 0, 2 * H) + torch::matmul(h, U_zr));
    const torch::Tensor z = zr.narrow(1, 0, H), r = zr.narrow(1, H, H);
    const torch::Tensor hh = torch::tanh(p.narrow(1, 2 * H, H) + torch::matmul(r * h, U_h));
    h = z * h + (1 - z) * hh;
    states.push_back(h);
  }
  return torch::stack(states, 1);
}

CrnnImpl::CrnnImpl(const ArchConfig& cfg) : config(cfg) {
  config.validate();
  final_dropout = register_module("final_dropout", torch::nn::Dropout(config.final_dropout));
  if (config.is_transfer()) {
    for (const auto& b : config.backbones) backbones->push_back(Crnn(b));
    register_module("backbones", backbones);
    const int size = config.layer_feature_size();
    feature_mean = register_buffer("feature_mean", torch::zeros({size}));
    feature_scale = register_buffer("feature_scale", torch::ones({size}));
    int head_in = size;
    if (config.head_hidden > 0) {
      hidden = register_module("hidden", torch::nn::Linear(size, config.head_hidden));
      head_in = config.head_hidden;
    }
    output = register_module("output", torch::nn::Linear(head_in, config.n_classes));
    train(is_training());
    return;
  }
  if (config.input_norm == "freq")
    input_bn = register_module(
        "input_bn",
        torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(config.n_mels).eps(config.bn_eps)));
  else if (config.input_norm == "time")
    input_bn = register_module(
        "input_bn", torch::nn::BatchNorm2d(
                        torch::nn::BatchNorm2dOptions(config.pad_time_to).eps(config.bn_eps)));
  else if (config.input_norm == "global")
    input_bn = register_module(
        "input_bn", torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(1).eps(config.bn_eps)));

  int in_channels = 1;
  for (std::size_t i = 0; i < config.channels.size(); ++i) {
    blocks->push_back(ConvBlock(in_channels, config.channels[i], config.pools[i], config.bn_eps,
                                config.conv_dropout, config.activation == "relu"));
    in_channels = config.channels[i];
  }
  register_module("blocks", blocks);

  if (config.gru_type == "torch") {
    gru =
        register_module("gru", torch::nn::GRU(torch::nn::GRUOptions(in_channels, config.gru_hidden)
                                                  .num_layers(config.gru_layers)
                                                  .batch_first(true)));
  } else {
    int size = in_channels;
    for (int l = 0; l < config.gru_layers; ++l) {
      keras_grus->push_back(Keras1Gru(size, config.gru_hidden));
      size = config.gru_hidden;
    }
    register_module("keras_grus", keras_grus);
  }
  output = register_module("output", torch::nn::Linear(config.gru_hidden, config.n_classes));
}

torch::Tensor CrnnImpl::embed(torch::Tensor x) {
  if (!config.is_transfer()) return recurrent(conv_sequence(x));
  std::vector<torch::Tensor> parts;
  for (auto& b : *backbones) parts.push_back(b->as<Crnn>()->layer_features(x));
  return torch::cat(parts, 1);
}

namespace {

// [B, C, 1, T'] (any memory format) -> [B, T', C]
torch::Tensor to_sequence(const torch::Tensor& x) {
  TORCH_CHECK(x.size(3) >= 1, "input too short: no time step left after pooling");
  return x.squeeze(2).transpose(1, 2);
}

}  // namespace

torch::Tensor CrnnImpl::layer_features(torch::Tensor x) {
  TORCH_CHECK(!config.is_transfer(), "layer_features of a transfer model");
  x = normalized_input(x);
  std::vector<torch::Tensor> parts;
  for (auto& block : *blocks) {
    x = block->as<ConvBlock>()->forward(x);
    parts.push_back(x.mean({2, 3}).to(torch::kFloat32));  // bf16 under autocast
  }
  const torch::Tensor state = recurrent(to_sequence(x)).to(torch::kFloat32);
  parts.push_back(state);
  parts.push_back(probabilities(output(state)).to(torch::kFloat32));
  return torch::cat(parts, 1);
}

void CrnnImpl::fit_standardization(const torch::Tensor& features) {
  TORCH_CHECK(config.is_transfer() && features.dim() == 2 &&
                  features.size(1) == config.layer_feature_size(),
              "fit_standardization: expected [N, ", config.layer_feature_size(), "] features");
  torch::NoGradGuard no_grad;
  const torch::Tensor f = features.to(torch::kFloat32).to(feature_mean.device());
  feature_mean.copy_(f.mean(0));
  feature_scale.copy_(f.size(0) > 1 ? f.std(0, /*unbiased=*/false).clamp_min(1e-6)
                                    : torch::ones_like(feature_scale));
}

torch::Tensor CrnnImpl::normalized_input(torch::Tensor x) {
  if (x.dim() == 3) x = x.unsqueeze(1);
  TORCH_CHECK(x.dim() == 4 && x.size(1) == 1 && x.size(2) == config.n_mels,
              "CRNN expects input [batch, 1, ", config.n_mels, ", frames], got ", x.sizes());
  if (config.pad_time_to > x.size(3)) {
    const int64_t extra = config.pad_time_to - x.size(3);
    x = torch::constant_pad_nd(x, {extra / 2, extra - extra / 2});
  }
  if (config.input_norm == "freq") {
    x = apply_batch_norm(input_bn, x.transpose(1, 2)).transpose(1, 2);  // one statistic per mel bin
  } else if (config.input_norm == "time") {
    x = apply_batch_norm(input_bn, x.permute({0, 3, 2, 1})).permute({0, 3, 2, 1});  // one per frame
  } else if (config.input_norm == "global") {
    x = apply_batch_norm(input_bn, x);
  }
  return x;
}

torch::Tensor CrnnImpl::conv_sequence(torch::Tensor x) {
  TORCH_CHECK(!config.is_transfer(), "conv_sequence of a transfer model");
  x = normalized_input(x);
  for (auto& block : *blocks) x = block->as<ConvBlock>()->forward(x);
  return to_sequence(x);
}

torch::Tensor CrnnImpl::recurrent(torch::Tensor x) {
  if (fast_gru && !is_training() && x.is_cpu()) {
    std::vector<std::pair<int, int>> windows;
    for (int64_t n = 0; n < x.size(0); ++n) windows.emplace_back(static_cast<int>(n), 0);
    // The hand-written GRU runs in fp32 (its input is bf16 under autocast).
    return fast_gru->last_states(x.to(torch::kFloat32), windows, static_cast<int>(x.size(1)));
  }
  if (gru) {
    x = std::get<0>(gru->forward(x));
  } else {
    for (auto& layer : *keras_grus) x = layer->as<Keras1Gru>()->forward(x);
  }
  return x.select(1, x.size(1) - 1);
}

torch::Tensor CrnnImpl::recurrent_windows(const torch::Tensor& sequence,
                                          const std::vector<std::pair<int, int>>& windows,
                                          int steps) {
  if (fast_gru && !is_training() && sequence.is_cpu())
    return fast_gru->last_states(sequence.to(torch::kFloat32), windows, steps);
  std::vector<torch::Tensor> slices;
  for (const auto& [n, t0] : windows) slices.push_back(sequence[n].narrow(0, t0, steps));
  return recurrent(torch::stack(slices));
}

void CrnnImpl::train(bool on) {
  if (on) fast_gru.reset();
  torch::nn::Module::train(on);
  // A transfer model's backbones are frozen feature extractors: their batch norms keep their
  // statistics and no dropout is drawn in them, whatever the head does.
  for (auto& b : *backbones) b->as<Crnn>()->train(false);
}

torch::Tensor CrnnImpl::classify(torch::Tensor embedding) {
  if (config.is_transfer()) embedding = (embedding - feature_mean) / feature_scale;
  if (hidden)
    embedding = final_dropout(torch::relu(hidden(final_dropout(embedding))));
  else
    embedding = final_dropout(embedding);
  return output(embedding);
}

torch::Tensor CrnnImpl::forward(torch::Tensor x) { return classify(embed(x)); }

torch::Tensor CrnnImpl::predict_proba(torch::Tensor x) { return probabilities(forward(x)); }

torch::Tensor CrnnImpl::probabilities(torch::Tensor logits) const {
  return config.mode == OutputMode::kMultiLabel ? torch::sigmoid(logits)
                                                : torch::softmax(logits, 1);
}

void to_channels_last(Crnn& net) {
  torch::NoGradGuard no_grad;
  for (auto& p : net->parameters())
    if (p.dim() == 4) p.set_data(p.data().contiguous(torch::MemoryFormat::ChannelsLast));
}

bool is_head_parameter(const std::string& name) {
  return name.rfind("output.", 0) == 0 || name.rfind("hidden.", 0) == 0;
}

void prepare_for_inference(Crnn& net) {
  net->eval();
  const bool cpu = net->parameters().empty() || net->parameters().front().is_cpu();
  if (net->config.is_transfer()) {
    for (auto& b : *net->backbones) {
      Crnn backbone(std::dynamic_pointer_cast<CrnnImpl>(b));
      prepare_for_inference(backbone);
    }
    return;
  }
  if (cpu) to_channels_last(net);
  for (auto& block : *net->blocks) block->as<ConvBlock>()->fold_batch_norm(cpu);
  net->fast_gru.reset();
  if (cpu && net->gru) net->fast_gru = std::make_shared<const GruInference>(net->gru);
}

}  // namespace genre

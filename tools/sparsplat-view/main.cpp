// sparsplat-view: real-time Vulkan viewer of a Gaussian model (INRIA PLY, compressed PLY, .spz, .splat).
// Frame: the splat pipeline (engine/display, docs/viewer.md) into a float target, then one
// render pass on the swapchain image: composite over the background + the ImGui panel.
// --device cpu (auto: when the only Vulkan device is a CPU): the engine's tile rasterizer
// draws instead, with progressive refinement (cpu_drawing.h), and its frame takes the splat
// target's place in the same composite pass.
// With a language field and --text-embeddings: a query box and a relevance heatmap over the
// splats (docs/viewer.md, docs/language.md), computed on the CPU when the view rests.
// Exit codes: 0 success, 1 internal failure (or validation messages with --validation),
// 2 bad input.
#define GLFW_INCLUDE_VULKAN
#include <GLFW/glfw3.h>

#include <CLI/CLI.hpp>
#include <imgui.h>
#include <backends/imgui_impl_glfw.h>
#include <backends/imgui_impl_vulkan.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <future>
#include <map>
#include <string>
#include <vector>

#include "engine/core/error.h"
#include "engine/core/log.h"
#include "engine/display/composite_pass_vk.h"
#include "engine/display/cpu_frame_renderer.h"
#include "engine/display/splat_pipeline_vk.h"
#include "engine/display/view_camera.h"
#include "engine/io/cameras_json.h"
#include "engine/io/image_io.h"
#include "engine/language/language_pipeline.h"
#include "engine/language/query_overlay.h"
#include "engine/io/model_file.h"
#include "engine/train/appearance.h"
#include "tools/sparsplat-view/cpu_drawing.h"

namespace sp {
namespace {

struct ViewerArgs {
  std::string model;
  std::string cameras;
  int camera = -1;            // start at this dataset camera (window sized like it)
  int width = 0, height = 0;  // window size (default 1280x720, or the camera's)
  int frames = 0;             // with --exit: frames to render before leaving
  std::string screenshot;     // file for the screenshot key / the automated one
  bool exit_after = false;
  bool no_ui = false;
  bool validation = false;
  bool exercise_window = false;  // resize + iconify/restore during the first frames (tests)
  std::vector<float> background = {0, 0, 0};
  std::string appearance;       // start in this train photo's look (appearance.json beside the model)
  std::string device = "auto";  // cpu | vulkan | auto (cpu when the only Vulkan device is a CPU)
  bool progressive = true;      // CPU drawing: reduced scale while the view moves
  float target_fps = 20.0f;     // CPU drawing: frame rate to keep while moving
  float spin = 0.0f;            // degrees to orbit per frame (benchmarks: every frame a new view)
  // Language queries.
  std::string text_embeddings;  // .npy [M, D] + JSON phrase list (as `sparsplat query`)
  std::string phrases_file;     // "" = the .npy path with .json
  std::string dictionary;       // "" = <model stem>.language.npy
  std::string query;            // initial query phrase
  std::string query_level = "auto";  // auto | 1 | 2 | 3
  int top_k = 4;
  float heatmap_opacity = 0.6f, heatmap_threshold = 0.4f;
  int query_size = 640;  // longer side of the relevance map (CPU cost); the window's if smaller
};

// The language side of the viewer: what is loaded, the current query and the last overlay.
struct QueryPanelState {
  bool field_ready = false, embeddings_ready = false;
  std::string unavailable;  // why the panel is greyed out
  LanguageField field;
  SparseCodes codes;
  QueryEmbeddings embeddings;  // every phrase of the file
  int selected = -1;           // index into embeddings.phrases
  char text[256] = {};
  int level_choice = 0;        // 0 auto, else 1..levels
  HeatmapParams heatmap;
  std::string message;
};

// One overlay computation's result.
struct OverlayJob {
  Camera camera;  // the window camera it was computed for
  int selected = -1, level_choice = 0;
  RelevanceOverlay overlay;
  int level = 0;
  double ms = 0;
};

// Which renderer draws the splats; the composite pass, the heatmap and the panel are shared.
enum class DrawDevice { Cpu, Vulkan };
const char* draw_device_name(DrawDevice d) { return d == DrawDevice::Cpu ? "cpu" : "vulkan"; }

bool same_view(const Camera& a, const Camera& b) {
  return a.width == b.width && a.height == b.height && a.fx == b.fx && a.fy == b.fy && a.cx == b.cx && a.cy == b.cy &&
         a.R == b.R && a.t == b.t;
}

void check_vk_for_imgui(VkResult r) {
  if (r < 0) throw_internal(std::string("Vulkan (ImGui backend): ") + vk_result_name(r));
}

// Everything that depends on the swapchain's size.
struct Swapchain {
  VkSwapchainKHR swapchain = VK_NULL_HANDLE;
  VkFormat format = VK_FORMAT_UNDEFINED;
  VkExtent2D extent{0, 0};
  uint32_t min_images = 2;
  std::vector<VkImage> images;
  std::vector<VkImageView> views;
  std::vector<VkFramebuffer> framebuffers;
  std::vector<VkSemaphore> rendered;  // one per image: presentation waits on it
};

class Viewer {
 public:
  Viewer(const ViewerArgs& args, GLFWwindow* window, VulkanDevice& device, const GaussianModel& model,
         std::vector<Camera> cameras, QueryPanelState query, DrawDevice draw_device, AppearanceCodes codes);
  ~Viewer();
  int run();

 private:
  void create_swapchain();
  void destroy_swapchain();
  void create_composite_pipeline();
  void prepare_draw_device();
  void print_run_summary(int frames, double seconds) const;
  void draw_query_panel();
  void select_phrase(const std::string& phrase);
  void update_overlay(const Camera& camera);
  bool draw_frame(bool take_screenshot, const std::string& screenshot_path);
  void save_screenshot(const std::string& path);
  void handle_input(float dt);
  void draw_panel();
  void snap(int index);
  void reset_view();
  void set_look(int look);  // recolours the model and re-uploads it
  glm::vec3 shown_background() const;

 public:
  void key(int key);

 private:

  ViewerArgs args_;
  GLFWwindow* window_;
  VulkanDevice& device_;
  VulkanDevice::Impl& dev_;
  // Photos in the wild (docs/in_the_wild.md): the trained model's colour codes, and the model
  // as shown, recoloured by the picked photo's code (look_ -1: the photos' average look).
  const GaussianModel& base_;
  AppearanceCodes codes_;
  int look_ = -1;
  GaussianModel look_model_;    // empty when the model has no codes
  const GaussianModel& model_;  // what both drawing paths draw: look_model_, or base_ without codes
  std::vector<Camera> cameras_;
  DrawDevice draw_device_;      // drawing this frame
  DrawDevice wanted_device_;    // the panel's choice, applied between frames
  std::unique_ptr<SplatPipeline> pipeline_;  // created on the first Vulkan frame
  SplatTarget target_;
  CpuDrawing cpu_;
  Swapchain sc_;
  VkRenderPass present_pass_ = VK_NULL_HANDLE;
  VkDescriptorPool imgui_pool_ = VK_NULL_HANDLE;
  std::unique_ptr<CompositePass> composite_;
  VkCommandBuffer cmd_ = VK_NULL_HANDLE;
  VkFence frame_fence_ = VK_NULL_HANDLE;
  VkSemaphore acquired_ = VK_NULL_HANDLE;
  GpuBuffer screenshot_buffer_;
  bool imgui_ready_ = false;

  ViewCamera view_;
  glm::vec3 scene_center_{0.0f};
  float scene_extent_ = 1.0f;
  int current_camera_ = -1;
  bool fly_mode_ = false;
  bool show_panel_ = true;
  int sh_degree_ = 3;
  float splat_scale_ = 1.0f;
  float background_[3] = {0, 0, 0};
  double last_mouse_x_ = 0, last_mouse_y_ = 0;
  float frame_ms_ = 0, fps_ = 0;
  float vulkan_frame_ms_ = 0;   // the window's frame time while Vulkan drew (0: not yet)
  bool cpu_rendered_ = false;   // this frame's CPU picture is new (else the last one stays)
  uint32_t visible_ = 0;
  SplatPipeline::StageTimes stages_;
  int screenshot_counter_ = 0;
  bool screenshot_requested_ = false;
  std::string status_;

  // Query overlay: recomputed on a worker thread once the view has rested (debounce) or at
  // once when the query changes; shown only while the view is the one it was computed for.
  QueryPanelState query_;
  Camera last_camera_;
  std::chrono::steady_clock::time_point last_move_ = std::chrono::steady_clock::now();
  OverlayJob shown_;          // uploaded overlay (selected < 0: none)
  bool final_frame_ = false;    // automation: the frame that ends the run
  bool vulkan_frame_submitted_ = false;  // a Vulkan frame has written the visible-count readback
  std::future<OverlayJob> pending_;  // declared last: joined before the state it reads goes
};

Viewer::Viewer(const ViewerArgs& args, GLFWwindow* window, VulkanDevice& device, const GaussianModel& model,
               std::vector<Camera> cameras, QueryPanelState query, DrawDevice draw_device, AppearanceCodes codes)
    : args_(args),
      window_(window),
      device_(device),
      dev_(device.impl()),
      base_(model),
      codes_(std::move(codes)),
      // A copy only for a model with codes (a large model without them is not held twice).
      look_model_(codes_.names.empty() ? GaussianModel() : model),
      model_(codes_.names.empty() ? base_ : look_model_),
      cameras_(std::move(cameras)),
      draw_device_(draw_device),
      wanted_device_(draw_device),
      cpu_(device.impl(), model_),
      query_(std::move(query)) {
  if (!args.appearance.empty()) set_look(codes_.find(args.appearance));  // run_viewer checked it exists
  cpu_.refinement().set_enabled(args.progressive);
  cpu_.refinement().set_target_ms(1000.0 / std::max(1.0f, args.target_fps));
  sh_degree_ = model.sh_degree;
  show_panel_ = !args.no_ui;
  for (int c = 0; c < 3; ++c) background_[c] = args.background[size_t(c)];

  // Scene centre and size (median-free: mean and RMS spread of the means).
  const size_t n = model.size();
  if (n > 0) {
    glm::dvec3 sum(0.0);
    for (size_t i = 0; i < n; ++i) sum += glm::dvec3(model.means[i * 3], model.means[i * 3 + 1], model.means[i * 3 + 2]);
    const glm::dvec3 mean = sum / double(n);
    double var = 0;
    for (size_t i = 0; i < n; ++i) {
      const glm::dvec3 d = glm::dvec3(model.means[i * 3], model.means[i * 3 + 1], model.means[i * 3 + 2]) - mean;
      var += glm::dot(d, d);
    }
    scene_center_ = glm::vec3(mean);
    scene_extent_ = float(std::max(1e-3, std::sqrt(var / double(n))));
  }

  VkCommandBufferAllocateInfo ai{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
  ai.commandPool = dev_.command_pool;
  ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  ai.commandBufferCount = 1;
  SP_VK(vkAllocateCommandBuffers(dev_.device, &ai, &cmd_));
  VkFenceCreateInfo fi{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
  fi.flags = VK_FENCE_CREATE_SIGNALED_BIT;
  SP_VK(vkCreateFence(dev_.device, &fi, nullptr, &frame_fence_));
  VkSemaphoreCreateInfo si{VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO};
  SP_VK(vkCreateSemaphore(dev_.device, &si, nullptr, &acquired_));
  create_swapchain();  // also creates present_pass_
  create_composite_pipeline();

  // ImGui (1.86: the render pass goes to Init, fonts are uploaded with a command buffer).
  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGui::GetIO().IniFilename = nullptr;  // no imgui.ini in the working folder
  ImGui::StyleColorsDark();
  ImGui_ImplGlfw_InitForVulkan(window_, true);
  VkDescriptorPoolSize sizes[] = {{VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER, 16}};
  VkDescriptorPoolCreateInfo pi{VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO};
  pi.flags = VK_DESCRIPTOR_POOL_CREATE_FREE_DESCRIPTOR_SET_BIT;
  pi.maxSets = 16;
  pi.poolSizeCount = 1;
  pi.pPoolSizes = sizes;
  SP_VK(vkCreateDescriptorPool(dev_.device, &pi, nullptr, &imgui_pool_));
  ImGui_ImplVulkan_InitInfo info{};
  info.Instance = dev_.instance;
  info.PhysicalDevice = dev_.physical;
  info.Device = dev_.device;
  info.QueueFamily = dev_.queue_family;
  info.Queue = dev_.queue;
  info.DescriptorPool = imgui_pool_;
  info.MinImageCount = std::max<uint32_t>(2, sc_.min_images);
  info.ImageCount = std::max<uint32_t>(info.MinImageCount, uint32_t(sc_.images.size()));
  info.MSAASamples = VK_SAMPLE_COUNT_1_BIT;
  info.CheckVkResultFn = check_vk_for_imgui;
  ImGui_ImplVulkan_Init(&info, present_pass_);
  dev_.submit_and_wait([](VkCommandBuffer cmd) { ImGui_ImplVulkan_CreateFontsTexture(cmd); });
  ImGui_ImplVulkan_DestroyFontUploadObjects();
  imgui_ready_ = true;

  if (args.camera >= 0) snap(args.camera);
  else reset_view();
}

Viewer::~Viewer() {
  if (pending_.valid()) pending_.wait();
  vkDeviceWaitIdle(dev_.device);
  if (imgui_ready_) {
    ImGui_ImplVulkan_Shutdown();
    ImGui_ImplGlfw_Shutdown();
    ImGui::DestroyContext();
  }
  destroy_swapchain();
  VkDevice d = dev_.device;
  composite_.reset();
  if (imgui_pool_) vkDestroyDescriptorPool(d, imgui_pool_, nullptr);
  if (present_pass_) vkDestroyRenderPass(d, present_pass_, nullptr);
  if (acquired_) vkDestroySemaphore(d, acquired_, nullptr);
  if (frame_fence_) vkDestroyFence(d, frame_fence_, nullptr);
  if (cmd_) vkFreeCommandBuffers(d, dev_.command_pool, 1, &cmd_);
  target_.reset();
  pipeline_.reset();
}

void Viewer::create_swapchain() {
  VkSurfaceCapabilitiesKHR caps;
  SP_VK(vkGetPhysicalDeviceSurfaceCapabilitiesKHR(dev_.physical, dev_.surface, &caps));
  int fb_w = 0, fb_h = 0;
  glfwGetFramebufferSize(window_, &fb_w, &fb_h);
  VkExtent2D extent = caps.currentExtent;
  if (extent.width == UINT32_MAX) extent = {uint32_t(std::max(fb_w, 0)), uint32_t(std::max(fb_h, 0))};
  extent.width = std::clamp(extent.width, caps.minImageExtent.width, caps.maxImageExtent.width);
  extent.height = std::clamp(extent.height, caps.minImageExtent.height, caps.maxImageExtent.height);
  sc_.extent = extent;
  if (extent.width == 0 || extent.height == 0) return;  // minimized: no swapchain until restored

  if (sc_.format == VK_FORMAT_UNDEFINED) {
    uint32_t n = 0;
    vkGetPhysicalDeviceSurfaceFormatsKHR(dev_.physical, dev_.surface, &n, nullptr);
    std::vector<VkSurfaceFormatKHR> formats(n);
    vkGetPhysicalDeviceSurfaceFormatsKHR(dev_.physical, dev_.surface, &n, formats.data());
    if (formats.empty()) throw_internal("Vulkan: the window surface offers no format");
    // UNORM (not sRGB): pixel values go to the screen as the CPU renderer writes them to PNG.
    sc_.format = formats[0].format;
    for (const VkSurfaceFormatKHR& f : formats)
      if ((f.format == VK_FORMAT_B8G8R8A8_UNORM || f.format == VK_FORMAT_R8G8B8A8_UNORM) &&
          f.colorSpace == VK_COLOR_SPACE_SRGB_NONLINEAR_KHR) {
        sc_.format = f.format;
        break;
      }
  }
  if (!present_pass_) {
    VkSubpassDependency dep{};
    dep.srcSubpass = VK_SUBPASS_EXTERNAL;  // the acquire semaphore waits at this stage
    dep.dstSubpass = 0;
    dep.srcStageMask = VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT;
    dep.dstStageMask = VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT;
    dep.dstAccessMask = VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT;
    // The composite covers every pixel: nothing to load.
    present_pass_ = make_color_render_pass(dev_.device, sc_.format, VK_ATTACHMENT_LOAD_OP_DONT_CARE,
                                           VK_IMAGE_LAYOUT_PRESENT_SRC_KHR, &dep, 1);
  }

  VkSwapchainCreateInfoKHR ci{VK_STRUCTURE_TYPE_SWAPCHAIN_CREATE_INFO_KHR};
  ci.surface = dev_.surface;
  ci.minImageCount = std::max<uint32_t>(caps.minImageCount, 2);
  if (caps.maxImageCount > 0) ci.minImageCount = std::min(ci.minImageCount, caps.maxImageCount);
  ci.imageFormat = sc_.format;
  ci.imageColorSpace = VK_COLOR_SPACE_SRGB_NONLINEAR_KHR;
  ci.imageExtent = extent;
  ci.imageArrayLayers = 1;
  ci.imageUsage = VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT | VK_IMAGE_USAGE_TRANSFER_SRC_BIT;  // + screenshots
  ci.imageSharingMode = VK_SHARING_MODE_EXCLUSIVE;
  ci.preTransform = caps.currentTransform;
  ci.compositeAlpha = (caps.supportedCompositeAlpha & VK_COMPOSITE_ALPHA_OPAQUE_BIT_KHR)
                          ? VK_COMPOSITE_ALPHA_OPAQUE_BIT_KHR
                          : VkCompositeAlphaFlagBitsKHR(caps.supportedCompositeAlpha & -caps.supportedCompositeAlpha);
  ci.presentMode = VK_PRESENT_MODE_FIFO_KHR;  // always available; vsync
  ci.clipped = VK_TRUE;
  SP_VK(vkCreateSwapchainKHR(dev_.device, &ci, nullptr, &sc_.swapchain));
  sc_.min_images = ci.minImageCount;
  uint32_t count = 0;
  vkGetSwapchainImagesKHR(dev_.device, sc_.swapchain, &count, nullptr);
  sc_.images.resize(count);
  vkGetSwapchainImagesKHR(dev_.device, sc_.swapchain, &count, sc_.images.data());
  for (VkImage image : sc_.images) {
    VkImageViewCreateInfo vi{VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO};
    vi.image = image;
    vi.viewType = VK_IMAGE_VIEW_TYPE_2D;
    vi.format = sc_.format;
    vi.subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1};
    VkImageView view;
    SP_VK(vkCreateImageView(dev_.device, &vi, nullptr, &view));
    sc_.views.push_back(view);
    VkFramebufferCreateInfo fi{VK_STRUCTURE_TYPE_FRAMEBUFFER_CREATE_INFO};
    fi.renderPass = present_pass_;
    fi.attachmentCount = 1;
    fi.pAttachments = &view;
    fi.width = extent.width;
    fi.height = extent.height;
    fi.layers = 1;
    VkFramebuffer fb;
    SP_VK(vkCreateFramebuffer(dev_.device, &fi, nullptr, &fb));
    sc_.framebuffers.push_back(fb);
    VkSemaphoreCreateInfo si{VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO};
    VkSemaphore s;
    SP_VK(vkCreateSemaphore(dev_.device, &si, nullptr, &s));
    sc_.rendered.push_back(s);
  }
  // The splat target or the CPU frame follow the new size in prepare_draw_device().
  screenshot_buffer_ = make_buffer(dev_, VkDeviceSize(extent.width) * extent.height * 4, VK_BUFFER_USAGE_TRANSFER_DST_BIT, true);
  if (imgui_ready_) ImGui_ImplVulkan_SetMinImageCount(std::max<uint32_t>(2, sc_.min_images));
}

void Viewer::destroy_swapchain() {
  vkDeviceWaitIdle(dev_.device);
  for (VkFramebuffer fb : sc_.framebuffers) vkDestroyFramebuffer(dev_.device, fb, nullptr);
  for (VkImageView v : sc_.views) vkDestroyImageView(dev_.device, v, nullptr);
  for (VkSemaphore s : sc_.rendered) vkDestroySemaphore(dev_.device, s, nullptr);
  if (sc_.swapchain) vkDestroySwapchainKHR(dev_.device, sc_.swapchain, nullptr);
  sc_.framebuffers.clear();
  sc_.views.clear();
  sc_.rendered.clear();
  sc_.images.clear();
  sc_.swapchain = VK_NULL_HANDLE;
}

void Viewer::create_composite_pipeline() { composite_ = std::make_unique<CompositePass>(dev_, present_pass_); }

// Between frames (the last one has finished): the chosen renderer, its image at the window's
// size, and the composite pass sampling it.
void Viewer::prepare_draw_device() {
  const int W = int(sc_.extent.width), H = int(sc_.extent.height);
  if (wanted_device_ != draw_device_) {
    log_info(std::string("sparsplat-view: drawing with ") +
             (wanted_device_ == DrawDevice::Cpu ? "the CPU rasterizer" : "Vulkan on " + device_.name()));
    draw_device_ = wanted_device_;
    if (draw_device_ == DrawDevice::Cpu) cpu_.invalidate();  // its last picture is of an older view
  }
  if (draw_device_ == DrawDevice::Vulkan) {
    if (!pipeline_) {  // on lavapipe, building the pipelines and uploading the model takes a moment
      pipeline_ = std::make_unique<SplatPipeline>(dev_);
      pipeline_->set_model(model_);
      vulkan_frame_submitted_ = false;
    }
    if (target_.width != W || target_.height != H || !target_.view) pipeline_->make_target(target_, W, H);
  }
  // The CPU frame's image is (re)made by cpu_.prepare() in draw_frame(), which binds either.
}

// Picks the phrase of the embedding file: exact, else the first containing `text`
// (case-insensitive). The file has the only phrases that can be queried (no CLIP here).
int find_phrase(const std::vector<std::string>& phrases, const std::string& text) {
  for (size_t i = 0; i < phrases.size(); ++i)
    if (phrases[i] == text) return int(i);
  auto lower = [](std::string v) {
    for (char& c : v) c = char(std::tolower(static_cast<unsigned char>(c)));
    return v;
  };
  const std::string t = lower(text);
  if (t.empty()) return -1;
  for (size_t i = 0; i < phrases.size(); ++i)
    if (lower(phrases[i]).find(t) != std::string::npos) return int(i);
  return -1;
}

void Viewer::select_phrase(const std::string& text) {
  const int k = find_phrase(query_.embeddings.phrases, text);
  if (k < 0) {
    query_.message = "no embedding for '" + text + "' in the file";
    return;
  }
  query_.selected = k;
  std::snprintf(query_.text, sizeof query_.text, "%s", query_.embeddings.phrases[size_t(k)].c_str());
}

void Viewer::update_overlay(const Camera& camera) {
  using clock = std::chrono::steady_clock;
  const auto now = clock::now();
  if (!same_view(camera, last_camera_)) {
    last_camera_ = camera;
    last_move_ = now;
  }
  if (!query_.field_ready || !query_.embeddings_ready) return;
  // Automation (--exit): no debounce, and the last frame waits for a pending result, so a
  // screenshot shows the overlay; earlier frames take the same asynchronous path as a user's.
  const bool automated = args_.exit_after;
  auto collect = [&] {
    try {
      OverlayJob job = pending_.get();
      composite_->set_relevance(job.overlay);
      char m[160];
      std::snprintf(m, sizeof m, "level %d, %dx%d map in %.0f ms", job.level + 1, job.overlay.width,
                    job.overlay.height, job.ms);
      query_.message = m;
      shown_ = std::move(job);
    } catch (const Error& e) {
      query_.message = e.what();
      query_.selected = -1;
    }
  };
  if (pending_.valid() && automated && final_frame_) pending_.wait();
  if (pending_.valid() && pending_.wait_for(std::chrono::seconds(0)) == std::future_status::ready) collect();
  if (pending_.valid()) return;
  if (query_.selected < 0) {
    shown_ = OverlayJob{};
    return;
  }
  const bool changed = shown_.selected != query_.selected || shown_.level_choice != query_.level_choice;
  if (!changed && same_view(shown_.camera, camera)) return;
  if (!changed && !automated && now - last_move_ < std::chrono::milliseconds(250)) return;  // still moving

  // The relevance map at most query_size on its longer side: the CPU cost scales with pixels.
  const int W = camera.width, H = camera.height;
  const double s = std::min(1.0, double(args_.query_size) / double(std::max(W, H)));
  const Camera small = camera.resized(std::max(1, int(std::lround(W * s))), std::max(1, int(std::lround(H * s))));
  pending_ = std::async(std::launch::async, [this, camera, small, q = single_query(query_.embeddings, query_.selected),
                                             selected = query_.selected, level_choice = query_.level_choice] {
    const auto t0 = clock::now();
    const RelevanceMaps maps = query_relevance(model_, query_.field, query_.codes, small, q);
    LerfOptions lo;
    lo.pool = scaled_lerf_pool(std::max(small.width, small.height));
    QueryOverlay o = query_overlay(maps, 0, level_choice - 1, lo);
    OverlayJob job;
    job.camera = camera;
    job.selected = selected;
    job.level_choice = level_choice;
    job.overlay = {small.width, small.height, std::move(o.values)};
    job.level = o.level;
    job.ms = std::chrono::duration<double, std::milli>(clock::now() - t0).count();
    log_info("sparsplat-view: query '" + q.phrases[0] + "' at " + std::to_string(small.width) + "x" +
             std::to_string(small.height) + ": " + std::to_string(int(std::lround(job.ms))) + " ms (level " +
             std::to_string(job.level + 1) + ")");
    return job;
  });
  if (automated && final_frame_) collect();
}

void Viewer::draw_query_panel() {
  if (!ImGui::CollapsingHeader("Query (language field)", ImGuiTreeNodeFlags_DefaultOpen)) return;
  const bool ready = query_.field_ready && query_.embeddings_ready;
  if (!ready) ImGui::TextWrapped("Unavailable: %s", query_.unavailable.c_str());
  ImGui::BeginDisabled(!ready);
  if (ImGui::InputText("Phrase", query_.text, sizeof query_.text, ImGuiInputTextFlags_EnterReturnsTrue))
    select_phrase(query_.text);
  const char* preview = query_.selected >= 0 ? query_.embeddings.phrases[size_t(query_.selected)].c_str() : "(none)";
  if (ImGui::BeginCombo("Phrases", preview)) {
    for (size_t i = 0; i < query_.embeddings.phrases.size(); ++i)
      if (ImGui::Selectable(query_.embeddings.phrases[i].c_str(), int(i) == query_.selected))
        select_phrase(query_.embeddings.phrases[i]);
    ImGui::EndCombo();
  }
  const char* levels[] = {"auto (highest relevance)", "1 (small)", "2 (medium)", "3 (large)"};
  ImGui::Combo("Level", &query_.level_choice, levels, 1 + std::min(3, query_.field_ready ? query_.field.levels : 3));
  ImGui::SliderFloat("Opacity", &query_.heatmap.opacity, 0.0f, 1.0f, "%.2f");
  ImGui::SliderFloat("Threshold", &query_.heatmap.threshold, 0.0f, 1.0f, "%.2f");
  ImGui::Checkbox("Overlay", &query_.heatmap.enabled);
  ImGui::SameLine();
  if (ImGui::Button("Clear")) {
    query_.selected = -1;
    query_.text[0] = 0;
    query_.message.clear();
  }
  if (pending_.valid()) ImGui::TextUnformatted("computing relevance...");
  else if (!query_.message.empty()) ImGui::TextWrapped("%s", query_.message.c_str());
  ImGui::EndDisabled();
}

void Viewer::reset_view() {
  current_camera_ = -1;
  const float d = 3.0f * scene_extent_;
  view_.look_from(scene_center_ - glm::vec3(0, 0, d), scene_center_, 0.9f);
}

void Viewer::snap(int index) {
  if (cameras_.empty()) return;
  const int n = int(cameras_.size());
  current_camera_ = ((index % n) + n) % n;
  const Camera& c = cameras_[size_t(current_camera_)];
  // Pivot: the scene centre's depth in this camera (the scene size when behind it).
  const float depth = c.to_camera(scene_center_).z;
  view_.snap_to(c, depth > 1e-3f ? depth : scene_extent_);
}

void Viewer::handle_input(float dt) {
  const ImGuiIO& io = ImGui::GetIO();
  double mx, my;
  glfwGetCursorPos(window_, &mx, &my);
  const float dx = float(mx - last_mouse_x_), dy = float(my - last_mouse_y_);
  last_mouse_x_ = mx;
  last_mouse_y_ = my;
  if (!io.WantCaptureMouse) {
    const float turn = 0.005f;
    const bool left = glfwGetMouseButton(window_, GLFW_MOUSE_BUTTON_LEFT) == GLFW_PRESS;
    const bool right = glfwGetMouseButton(window_, GLFW_MOUSE_BUTTON_RIGHT) == GLFW_PRESS;
    const bool middle = glfwGetMouseButton(window_, GLFW_MOUSE_BUTTON_MIDDLE) == GLFW_PRESS;
    if ((left || right) && (dx != 0 || dy != 0)) {
      // Left drag orbits (fly mode: looks around); right drag always looks around.
      if (left && !fly_mode_) view_.orbit(-dx * turn, dy * turn);
      else view_.look(dx * turn, -dy * turn);
    }
    if (middle && (dx != 0 || dy != 0)) {
      const float s = view_.orbit_distance() * 0.0015f;
      view_.pan(-dx * s, -dy * s);
    }
    if (io.MouseWheel != 0) view_.zoom(std::pow(0.9f, io.MouseWheel));
  }
  if (!io.WantCaptureKeyboard) {
    const float speed = scene_extent_ * dt * (glfwGetKey(window_, GLFW_KEY_LEFT_SHIFT) == GLFW_PRESS ? 4.0f : 1.0f);
    glm::vec3 m(0.0f);
    if (glfwGetKey(window_, GLFW_KEY_W) == GLFW_PRESS) m.z += speed;
    if (glfwGetKey(window_, GLFW_KEY_S) == GLFW_PRESS) m.z -= speed;
    if (glfwGetKey(window_, GLFW_KEY_D) == GLFW_PRESS) m.x += speed;
    if (glfwGetKey(window_, GLFW_KEY_A) == GLFW_PRESS) m.x -= speed;
    if (glfwGetKey(window_, GLFW_KEY_E) == GLFW_PRESS) m.y -= speed;  // up (camera y points down)
    if (glfwGetKey(window_, GLFW_KEY_Q) == GLFW_PRESS) m.y += speed;
    if (m != glm::vec3(0.0f)) view_.move(m);
  }
}

void on_key(GLFWwindow* window, int key, int scancode, int action, int mods);

void Viewer::draw_panel() {
  if (!show_panel_) return;
  ImGui::SetNextWindowPos(ImVec2(8, 8), ImGuiCond_Always);  // stays on screen through resizes
  ImGui::SetNextWindowBgAlpha(0.8f);
  ImGui::Begin("sparsplat-view", nullptr, ImGuiWindowFlags_AlwaysAutoResize);
  ImGui::Text("%.1f FPS  |  %.2f ms/frame", fps_, frame_ms_);
  int choice = wanted_device_ == DrawDevice::Cpu ? 0 : 1;
  ImGui::TextUnformatted("Draw with (V):");
  ImGui::SameLine();
  ImGui::RadioButton("CPU rasterizer", &choice, 0);
  ImGui::SameLine();
  ImGui::RadioButton("Vulkan", &choice, 1);
  wanted_device_ = choice == 0 ? DrawDevice::Cpu : DrawDevice::Vulkan;
  // Both renderers' speed, each as last measured while it drew (the CPU path renders only
  // when the view changes, so its figure is per rendered frame, not the window's rate).
  if (cpu_.mean_ms() > 0) {
    const glm::ivec2 size = CpuFrameRenderer::scaled_size(int(sc_.extent.width), int(sc_.extent.height), cpu_.last_scale());
    ImGui::Text("CPU: %.1f FPS  %.1f ms/render  (last %dx%d, scale %.2f)", 1000.0 / cpu_.mean_ms(), cpu_.mean_ms(),
                size.x, size.y, cpu_.last_scale());
  } else {
    ImGui::TextUnformatted("CPU: not used yet");
  }
  if (vulkan_frame_ms_ > 0) ImGui::Text("Vulkan: %.1f FPS  %.1f ms/frame", 1000.0 / vulkan_frame_ms_, vulkan_frame_ms_);
  else ImGui::TextUnformatted(pipeline_ ? "Vulkan: measuring..." : "Vulkan: not used yet (first switch builds its pipelines)");
  if (draw_device_ == DrawDevice::Vulkan)
    ImGui::Text("GPU: project %.2f  sort %.2f  draw %.2f ms", stages_.project_ms, stages_.sort_ms, stages_.draw_ms);
  if (draw_device_ == DrawDevice::Cpu) {
    bool progressive = cpu_.refinement().enabled();
    if (ImGui::Checkbox("Coarse while moving", &progressive)) cpu_.refinement().set_enabled(progressive);
    float target_fps = float(1000.0 / cpu_.refinement().target_ms());
    if (ImGui::SliderFloat("Target FPS", &target_fps, 5.0f, 60.0f, "%.0f"))
      cpu_.refinement().set_target_ms(1000.0 / double(target_fps));
  }
  ImGui::Text("Gaussians: %zu  (drawn %u)", model_.size(), visible_);
  ImGui::Text("Vulkan device: %s%s", dev_.properties.deviceName, device_.is_cpu() ? " (CPU)" : "");
  ImGui::Text("Window: %ux%u", sc_.extent.width, sc_.extent.height);
  ImGui::SliderInt("SH degree", &sh_degree_, 0, model_.sh_degree);
  ImGui::SliderFloat("Splat scale", &splat_scale_, 0.05f, 2.0f, "%.2f");
  ImGui::ColorEdit3("Background", background_);
  if (!codes_.names.empty()) {
    // The photos' colour codes: the model (and background) as the picked photo saw it.
    const char* preview = look_ < 0 ? "average of the photos" : codes_.names[size_t(look_)].c_str();
    if (ImGui::BeginCombo("Look (L)", preview)) {
      if (ImGui::Selectable("average of the photos", look_ < 0)) set_look(-1);
      for (size_t i = 0; i < codes_.names.size(); ++i)
        if (ImGui::Selectable(codes_.names[i].c_str(), int(i) == look_)) set_look(int(i));
      ImGui::EndCombo();
    }
  }
  ImGui::Checkbox("Fly mode (Tab)", &fly_mode_);
  if (!cameras_.empty()) {
    ImGui::Text("Dataset camera: %d / %zu", current_camera_ + 1, cameras_.size());
    if (ImGui::Button("< Prev (P)")) snap(current_camera_ - 1);
    ImGui::SameLine();
    if (ImGui::Button("Next (N) >")) snap(current_camera_ + 1);
  }
  if (ImGui::Button("Reset view (R)")) reset_view();
  ImGui::SameLine();
  if (ImGui::Button("Screenshot (F12)")) screenshot_requested_ = true;
  if (!status_.empty()) ImGui::TextUnformatted(status_.c_str());
  draw_query_panel();
  if (ImGui::CollapsingHeader("Controls")) {
    ImGui::TextUnformatted(
        "Left drag: orbit (fly mode: look)\nRight drag: look around\nMiddle drag: pan\nWheel: zoom\n"
        "W/A/S/D, Q/E: move (Shift: faster)\nN/P or 1-9: dataset cameras\nR: reset  Tab: fly mode\n"
        "V: CPU / Vulkan drawing  H: hide panel\nF12: screenshot  Esc: quit");
  }
  ImGui::End();
}

bool Viewer::draw_frame(bool take_screenshot, const std::string& screenshot_path) {
  if (sc_.extent.width == 0 || sc_.extent.height == 0 || !sc_.swapchain) return false;
  SP_VK(vkWaitForFences(dev_.device, 1, &frame_fence_, VK_TRUE, UINT64_MAX));
  if (draw_device_ == DrawDevice::Vulkan && pipeline_) {
    visible_ = vulkan_frame_submitted_ ? pipeline_->copied_count() : 0;  // the previous frame's (none: unwritten memory)
    stages_ = pipeline_->stage_times();
  }
  prepare_draw_device();
  uint32_t index = 0;
  VkResult r = vkAcquireNextImageKHR(dev_.device, sc_.swapchain, UINT64_MAX, acquired_, VK_NULL_HANDLE, &index);
  if (r == VK_ERROR_OUT_OF_DATE_KHR) {
    destroy_swapchain();
    create_swapchain();
    return false;
  }
  if (r != VK_SUBOPTIMAL_KHR) SP_VK(r);
  SP_VK(vkResetFences(dev_.device, 1, &frame_fence_));

  const Camera camera = view_.camera(int(sc_.extent.width), int(sc_.extent.height));
  update_overlay(camera);  // the previous frame has finished: the relevance texture may change
  cpu_rendered_ = false;
  if (draw_device_ == DrawDevice::Cpu) {
    CpuFrameSettings cs;
    cs.sh_degree = sh_degree_;
    cs.splat_scale = splat_scale_;
    cs.background = shown_background();
    // Screenshots and the automated last frame show the full-resolution picture.
    cpu_rendered_ = cpu_.prepare(camera, cs, take_screenshot || final_frame_, std::chrono::steady_clock::now());
    visible_ = uint32_t(cpu_.last_visible());
    composite_->set_splat_target(cpu_.view());
  } else {
    composite_->set_splat_target(target_.view);
  }

  SP_VK(vkResetCommandBuffer(cmd_, 0));
  VkCommandBufferBeginInfo bi{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
  bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  SP_VK(vkBeginCommandBuffer(cmd_, &bi));
  if (draw_device_ == DrawDevice::Vulkan) {
    SplatSettings settings;
    settings.sh_degree = sh_degree_;
    settings.splat_scale = splat_scale_;
    pipeline_->record(cmd_, target_, camera, settings);
    pipeline_->record_count_copy(cmd_);
  } else if (cpu_rendered_) {
    cpu_.record_upload(cmd_);  // frames that keep the picture upload nothing
  }

  VkRenderPassBeginInfo rb{VK_STRUCTURE_TYPE_RENDER_PASS_BEGIN_INFO};
  rb.renderPass = present_pass_;
  rb.framebuffer = sc_.framebuffers[index];
  rb.renderArea = {{0, 0}, sc_.extent};
  vkCmdBeginRenderPass(cmd_, &rb, VK_SUBPASS_CONTENTS_INLINE);
  VkViewport viewport{0, 0, float(sc_.extent.width), float(sc_.extent.height), 0, 1};
  VkRect2D scissor{{0, 0}, sc_.extent};
  vkCmdSetViewport(cmd_, 0, 1, &viewport);
  vkCmdSetScissor(cmd_, 0, 1, &scissor);
  HeatmapParams heatmap = query_.heatmap;
  heatmap.enabled = heatmap.enabled && shown_.selected >= 0 && same_view(shown_.camera, camera);
  composite_->record(cmd_, shown_background(), heatmap);
  if (ImDrawData* draw = ImGui::GetDrawData()) ImGui_ImplVulkan_RenderDrawData(draw, cmd_);
  vkCmdEndRenderPass(cmd_);

  if (take_screenshot) {  // the presented image, exactly as shown
    image_barrier(cmd_, sc_.images[index], VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT,
                  VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT, VK_IMAGE_LAYOUT_PRESENT_SRC_KHR, VK_PIPELINE_STAGE_TRANSFER_BIT,
                  VK_ACCESS_TRANSFER_READ_BIT, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL);
    VkBufferImageCopy region{};
    region.imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1};
    region.imageExtent = {sc_.extent.width, sc_.extent.height, 1};
    vkCmdCopyImageToBuffer(cmd_, sc_.images[index], VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, screenshot_buffer_.buffer, 1,
                           &region);
    image_barrier(cmd_, sc_.images[index], VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_READ_BIT,
                  VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, 0,
                  VK_IMAGE_LAYOUT_PRESENT_SRC_KHR);
    buffer_barrier(cmd_, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_HOST_BIT,
                   VK_ACCESS_HOST_READ_BIT);
  }
  SP_VK(vkEndCommandBuffer(cmd_));

  const VkPipelineStageFlags wait_stage = VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT;
  VkSubmitInfo si{VK_STRUCTURE_TYPE_SUBMIT_INFO};
  si.waitSemaphoreCount = 1;
  si.pWaitSemaphores = &acquired_;
  si.pWaitDstStageMask = &wait_stage;
  si.commandBufferCount = 1;
  si.pCommandBuffers = &cmd_;
  si.signalSemaphoreCount = 1;
  si.pSignalSemaphores = &sc_.rendered[index];
  SP_VK(vkQueueSubmit(dev_.queue, 1, &si, frame_fence_));
  if (draw_device_ == DrawDevice::Vulkan) vulkan_frame_submitted_ = true;

  VkPresentInfoKHR pi{VK_STRUCTURE_TYPE_PRESENT_INFO_KHR};
  pi.waitSemaphoreCount = 1;
  pi.pWaitSemaphores = &sc_.rendered[index];
  pi.swapchainCount = 1;
  pi.pSwapchains = &sc_.swapchain;
  pi.pImageIndices = &index;
  r = vkQueuePresentKHR(dev_.queue, &pi);
  if (take_screenshot) {
    SP_VK(vkWaitForFences(dev_.device, 1, &frame_fence_, VK_TRUE, UINT64_MAX));
    save_screenshot(screenshot_path);
  }
  if (r == VK_ERROR_OUT_OF_DATE_KHR || r == VK_SUBOPTIMAL_KHR) {
    destroy_swapchain();
    create_swapchain();
  } else {
    SP_VK(r);
  }
  return true;
}

void Viewer::save_screenshot(const std::string& path) {
  const int W = int(sc_.extent.width), H = int(sc_.extent.height);
  Image img(W, H, 3);
  const uint8_t* px = static_cast<const uint8_t*>(screenshot_buffer_.mapped);
  const bool bgr = sc_.format == VK_FORMAT_B8G8R8A8_UNORM || sc_.format == VK_FORMAT_B8G8R8A8_SRGB;
  for (size_t p = 0; p < size_t(W) * H; ++p)
    for (int c = 0; c < 3; ++c) img.pixels[p * 3 + c] = float(px[p * 4 + (bgr ? 2 - c : c)]) / 255.0f;
  save_png(path, img);
  status_ = "saved " + path;
  log_info("sparsplat-view: screenshot " + path + " (" + std::to_string(W) + "x" + std::to_string(H) + ")");
}

Viewer* g_viewer = nullptr;
bool g_resized = false;

int Viewer::run() {
  glfwSetKeyCallback(window_, on_key);
  glfwSetFramebufferSizeCallback(window_, [](GLFWwindow*, int, int) { g_resized = true; });
  glfwGetCursorPos(window_, &last_mouse_x_, &last_mouse_y_);
  auto last = std::chrono::steady_clock::now();
  int frames_drawn = 0;
  // Test choreography for --exercise-window: sizes (and an iconify) over the first frames.
  const std::vector<std::pair<int, int>> sizes = {{640, 360}, {1, 1}, {333, 517}, {0, 0}};
  int exercise_step = 0, exercise_wait = 0;
  std::chrono::steady_clock::time_point run_start{};
  double fps_accum = 0;
  int fps_frames = 0;
  while (!glfwWindowShouldClose(window_)) {
    glfwPollEvents();
    int fb_w = 0, fb_h = 0;
    glfwGetFramebufferSize(window_, &fb_w, &fb_h);
    if (g_resized || uint32_t(fb_w) != sc_.extent.width || uint32_t(fb_h) != sc_.extent.height) {
      g_resized = false;
      destroy_swapchain();
      create_swapchain();
    }
    if (sc_.extent.width == 0 || sc_.extent.height == 0) {  // minimized: wait, don't render
      if (args_.exercise_window && glfwGetWindowAttrib(window_, GLFW_ICONIFIED)) glfwRestoreWindow(window_);
      else glfwWaitEventsTimeout(0.1);
      continue;
    }
    const auto now = std::chrono::steady_clock::now();
    const float dt = std::chrono::duration<float>(now - last).count();
    last = now;
    fps_accum += dt;
    ++fps_frames;
    if (fps_accum >= 0.5) {
      frame_ms_ = float(1000.0 * fps_accum / fps_frames);
      fps_ = float(fps_frames / fps_accum);
      if (draw_device_ == DrawDevice::Vulkan) vulkan_frame_ms_ = frame_ms_;  // every Vulkan frame draws
      fps_accum = 0;
      fps_frames = 0;
    }
    if (args_.spin != 0.0f) view_.orbit(glm::radians(args_.spin), 0.0f);

    ImGui_ImplVulkan_NewFrame();
    ImGui_ImplGlfw_NewFrame();
    ImGui::NewFrame();
    handle_input(std::min(dt, 0.1f));
    draw_panel();
    ImGui::Render();

    const bool last_frame = args_.exit_after && frames_drawn + 1 >= args_.frames &&
                            (!args_.exercise_window || exercise_step >= int(sizes.size()));
    const bool automated_shot = last_frame && !args_.screenshot.empty();
    std::string shot_path;
    if (automated_shot) shot_path = args_.screenshot;
    else if (screenshot_requested_)
      shot_path = args_.screenshot.empty() ? "sparsplat-view-" + std::to_string(screenshot_counter_++) + ".png"
                                           : args_.screenshot;
    screenshot_requested_ = false;
    final_frame_ = last_frame;
    if (draw_frame(!shot_path.empty(), shot_path)) ++frames_drawn;
    if (frames_drawn == 1 && run_start == std::chrono::steady_clock::time_point{})
      run_start = std::chrono::steady_clock::now();  // the summary leaves out start-up and the first frame
    if (last_frame) {
      print_run_summary(frames_drawn - 1, std::chrono::duration<double>(std::chrono::steady_clock::now() - run_start).count());
      break;
    }
    // The CPU path kept its picture and nothing is moving: sleep until an event (or a short
    // timeout, for a pending refinement or query overlay) instead of spinning a core.
    if (draw_device_ == DrawDevice::Cpu && !cpu_rendered_ && !args_.exit_after) glfwWaitEventsTimeout(0.05);

    if (args_.exercise_window && exercise_step < int(sizes.size()) && ++exercise_wait >= 2) {
      exercise_wait = 0;
      const auto [w, h] = sizes[size_t(exercise_step++)];
      if (w == 0) {  // minimize and come back (restored above once iconified; a WM may ignore it)
        glfwIconifyWindow(window_);
        glfwRestoreWindow(window_);
        if (args_.camera >= 0 && !cameras_.empty())
          glfwSetWindowSize(window_, cameras_[size_t(current_camera_)].width, cameras_[size_t(current_camera_)].height);
        else
          glfwSetWindowSize(window_, args_.width, args_.height);
      } else {
        glfwSetWindowSize(window_, w, h);
      }
    }
  }
  return 0;
}

// With --exit: one line a benchmark script can read (frames after the first, so start-up and
// the first full-resolution frame are left out).
void Viewer::print_run_summary(int frames, double seconds) const {
  if (frames <= 0 || seconds <= 0) return;
  char line[256];
  std::snprintf(line, sizeof line, "sparsplat-view: %d frames in %.2f s: %.2f FPS, %.1f ms/frame (device %s", frames,
                seconds, frames / seconds, 1000.0 * seconds / frames, draw_device_name(draw_device_));
  std::string text = line;
  if (draw_device_ == DrawDevice::Cpu && cpu_.rendered_frames() > 0) {
    const double renders = double(cpu_.rendered_frames());
    std::snprintf(line, sizeof line, ", %ld CPU renders, mean scale %.2f, %.1f ms/render, progressive %s",
                  cpu_.rendered_frames(), cpu_.scale_sum() / renders, cpu_.ms_sum() / renders,
                  cpu_.refinement().enabled() ? "on" : "off");
    text += line;
  }
  std::printf("%s)\n", text.c_str());
  std::fflush(stdout);
}

void on_key(GLFWwindow* window, int key, int scancode, int action, int mods) {
  ImGui_ImplGlfw_KeyCallback(window, key, scancode, action, mods);  // the backend's callback was replaced
  if (action != GLFW_PRESS || !g_viewer || ImGui::GetIO().WantCaptureKeyboard) return;
  g_viewer->key(key);
}

void Viewer::set_look(int look) {
  look_ = look;
  look_model_.sh = look < 0 ? base_.sh : recolour_model(base_, codes_.code(size_t(look))).sh;
  if (pipeline_) pipeline_->set_model(look_model_);
  cpu_.invalidate();
  status_ = look < 0 ? "look: the average of the photos" : "look: " + codes_.names[size_t(look)];
}

glm::vec3 Viewer::shown_background() const {
  const glm::vec3 bg(background_[0], background_[1], background_[2]);
  return look_ < 0 ? bg : recolour_background(bg, codes_.code(size_t(look_)));
}

void Viewer::key(int key) {
  if (key == GLFW_KEY_ESCAPE) glfwSetWindowShouldClose(window_, GLFW_TRUE);
  else if (key == GLFW_KEY_N) snap(current_camera_ + 1);
  else if (key == GLFW_KEY_P) snap(current_camera_ - 1);
  else if (key >= GLFW_KEY_1 && key <= GLFW_KEY_9) snap(key - GLFW_KEY_1);
  else if (key == GLFW_KEY_R) reset_view();
  else if (key == GLFW_KEY_L && !codes_.names.empty()) set_look(look_ + 1 < int(codes_.names.size()) ? look_ + 1 : -1);
  else if (key == GLFW_KEY_TAB) fly_mode_ = !fly_mode_;
  else if (key == GLFW_KEY_H) show_panel_ = !show_panel_;
  else if (key == GLFW_KEY_F12) screenshot_requested_ = true;
  else if (key == GLFW_KEY_V) wanted_device_ = wanted_device_ == DrawDevice::Cpu ? DrawDevice::Vulkan : DrawDevice::Cpu;
}

// The language field and embeddings, or why the query panel is unavailable. Files that were
// named but are broken, and an initial --query that cannot run, are bad input.
QueryPanelState load_query_state(const ViewerArgs& args, const GaussianModel& model) {
  QueryPanelState q;
  q.heatmap.enabled = true;
  q.heatmap.opacity = args.heatmap_opacity;
  q.heatmap.threshold = args.heatmap_threshold;
  if (args.query_level == "auto") q.level_choice = 0;
  else if (args.query_level == "1" || args.query_level == "2" || args.query_level == "3") q.level_choice = std::stoi(args.query_level);
  else throw_bad_input("--query-level", "expected auto, 1, 2 or 3");
  const std::string dict = args.dictionary.empty() ? dictionary_path_for(args.model) : args.dictionary;
  if (model.extra_channels == 0) {
    q.unavailable = "the model has no language field (train one with `sparsplat language`)";
  } else if (!std::filesystem::exists(dict)) {
    if (!args.dictionary.empty()) throw_bad_input(dict, "language dictionary not found");
    q.unavailable = "no language dictionary " + std::filesystem::path(dict).filename().string() + " beside the model";
  } else {
    q.field = load_language_field(model, dict, args.top_k);
    q.codes = sparse_codes(q.field);
    q.field_ready = true;
    if (q.level_choice > q.field.levels)
      throw_bad_input("--query-level", "the field has " + std::to_string(q.field.levels) + " levels");
  }
  if (args.text_embeddings.empty()) {
    if (q.unavailable.empty()) q.unavailable = "no text embeddings (start with --text-embeddings FILE.npy)";
  } else {
    q.embeddings = load_all_query_embeddings(args.text_embeddings, args.phrases_file);
    if (q.field_ready && q.embeddings.dims != q.field.dims)
      throw_bad_input(args.text_embeddings, "embeddings have " + std::to_string(q.embeddings.dims) +
                                                " dims, the language field " + std::to_string(q.field.dims));
    if (q.embeddings.phrases.empty()) {
      if (q.unavailable.empty()) q.unavailable = "the embedding file has only the canonical phrases";
    } else {
      q.embeddings_ready = true;
    }
  }
  if (!args.query.empty()) {
    if (!(q.field_ready && q.embeddings_ready)) throw_bad_input("--query", q.unavailable);
    q.selected = find_phrase(q.embeddings.phrases, args.query);
    if (q.selected < 0) throw_bad_input("--query", "no embedding for phrase '" + args.query + "'");
    std::snprintf(q.text, sizeof q.text, "%s", q.embeddings.phrases[size_t(q.selected)].c_str());
  }
  return q;
}

int run_viewer(const ViewerArgs& args) {
  if (args.background.size() != 3) throw_bad_input("--background", "expected r,g,b");
  for (float v : args.background)
    if (!(v >= 0.0f && v <= 1.0f)) throw_bad_input("--background", "values must lie in [0, 1]");
  const GaussianModel model = read_gaussian_model(args.model);
  std::vector<Camera> cameras;
  if (!args.cameras.empty()) cameras = read_cameras_json(args.cameras);
  QueryPanelState query = load_query_state(args, model);
  // A model trained with --appearance has its codes beside it (docs/in_the_wild.md).
  AppearanceCodes codes;
  const std::filesystem::path codes_file = std::filesystem::path(args.model).parent_path() / "appearance.json";
  if (std::filesystem::is_regular_file(codes_file)) codes = read_appearance_codes(codes_file.string());
  if (!args.appearance.empty()) {
    if (codes.names.empty())
      throw_bad_input(args.model, "has no appearance codes (no appearance.json beside it): --appearance needs a model "
                                  "trained with `recon --appearance on`");
    if (codes.find(args.appearance) < 0)
      throw_bad_input(args.appearance, "is not one of the " + std::to_string(codes.size()) + " train images with a code in " +
                                           codes_file.string());
  }
  if (args.camera >= 0 && args.camera >= int(cameras.size()))
    throw_bad_input("--camera", std::to_string(args.camera) + " is out of range (" + std::to_string(cameras.size()) +
                                    " cameras" + (args.cameras.empty() ? "; give --cameras" : "") + ")");

  glfwSetErrorCallback([](int code, const char* text) { log_warn("GLFW error " + std::to_string(code) + ": " + text); });
  if (!glfwInit()) throw_internal("GLFW could not initialize (no display? run under xvfb-run)");
  struct GlfwSession {
    ~GlfwSession() { glfwTerminate(); }
  } glfw_session;
  if (!glfwVulkanSupported()) throw_internal("GLFW finds no Vulkan loader/driver");
  int width = args.width, height = args.height;
  if (args.camera >= 0) {
    if (width <= 0) width = cameras[size_t(args.camera)].width;
    if (height <= 0) height = cameras[size_t(args.camera)].height;
  }
  if (width <= 0) width = 1280;
  if (height <= 0) height = 720;
  glfwWindowHint(GLFW_CLIENT_API, GLFW_NO_API);
  glfwWindowHint(GLFW_RESIZABLE, GLFW_TRUE);
  const std::string title = "sparsplat-view - " + std::filesystem::path(args.model).filename().string();
  GLFWwindow* window = glfwCreateWindow(width, height, title.c_str(), nullptr, nullptr);
  if (!window) throw_internal("GLFW could not create a window");
  struct WindowGuard {
    GLFWwindow* w;
    ~WindowGuard() { glfwDestroyWindow(w); }
  } window_guard{window};

  VulkanDeviceOptions options;
  options.validation = args.validation;
  uint32_t n_ext = 0;
  const char** ext = glfwGetRequiredInstanceExtensions(&n_ext);
  for (uint32_t i = 0; i < n_ext; ++i) options.instance_extensions.emplace_back(ext[i]);
  std::string why;
  std::unique_ptr<VulkanDevice> device = create_vulkan_device(
      options,
      [&](VkInstance instance) {
        VkSurfaceKHR surface = VK_NULL_HANDLE;
        SP_VK(glfwCreateWindowSurface(instance, window, nullptr, &surface));
        return surface;
      },
      &why);
  if (!device) throw_internal("no Vulkan device for the window: " + why);
  log_info("sparsplat-view: " + std::to_string(model.size()) + " Gaussians (SH degree " +
           std::to_string(model.sh_degree) + ") on " + device->name());
  // auto: a CPU Vulkan driver (lavapipe) is 3-5x slower than the engine's own tile rasterizer.
  DrawDevice draw_device = DrawDevice::Vulkan;
  if (args.device == "cpu") draw_device = DrawDevice::Cpu;
  else if (args.device == "auto" && device->is_cpu()) draw_device = DrawDevice::Cpu;
  const std::string why_device =
      args.device != "auto" ? "--device " + args.device
      : draw_device == DrawDevice::Cpu ? "--device auto: the only Vulkan device is a CPU"
                                      : "--device auto: a GPU is present";
  log_info(std::string("sparsplat-view: drawing with ") +
           (draw_device == DrawDevice::Cpu ? "the CPU rasterizer (" + std::to_string(CpuFrameRenderer::threads()) + " threads)"
                                           : "Vulkan on " + device->name()) +
           " (" + why_device + "); the panel or V switches");
  int code = 0;
  {
    ViewerArgs resolved = args;
    resolved.width = width;
    resolved.height = height;
    Viewer viewer(resolved, window, *device, model, std::move(cameras), std::move(query), draw_device, std::move(codes));
    g_viewer = &viewer;
    code = viewer.run();
    g_viewer = nullptr;
  }
  if (args.validation) {
    const uint64_t messages = device->validation_messages();
    std::printf("validation messages: %llu\n", (unsigned long long)messages);
    if (messages > 0) code = 1;
  }
  return code;
}

}  // namespace
}  // namespace sp

int main(int argc, char** argv) {
  CLI::App app{"sparsplat-view: real-time Vulkan viewer for Gaussian splatting models (.ply, .compressed.ply, .spz, .splat)"};
  sp::ViewerArgs args;
  app.add_option("model", args.model, "Gaussian model: INRIA PLY (point_cloud.ply), .compressed.ply, .spz or .splat")->required();
  app.add_option("--cameras", args.cameras, "INRIA cameras.json: snap to its cameras with N/P or 1-9");
  app.add_option("--camera", args.camera, "Start at this camera of --cameras (window sized like it)")
      ->check(CLI::Range(0, 1000000));
  app.add_option("--width", args.width, "Window width (default 1280, or the camera's)")->check(CLI::Range(1, 16384));
  app.add_option("--height", args.height, "Window height (default 720, or the camera's)")->check(CLI::Range(1, 16384));
  app.add_option("--background", args.background, "Background colour r,g,b in [0,1]")->delimiter(',')->expected(3);
  app.add_option("--appearance", args.appearance,
                 "Start in this train photo's look (its colour code from appearance.json beside the model; L or the panel switch)");
  app.add_option("--screenshot", args.screenshot, "PNG path for the screenshot (F12; with --exit: the last frame)");
  app.add_option("--frames", args.frames, "With --exit: frames to render before leaving")->check(CLI::Range(1, 1000000));
  app.add_option("--device", args.device,
                 "Who draws the splats: cpu (the engine's tile rasterizer, presented through Vulkan), vulkan, or auto "
                 "(cpu when the only Vulkan device is a CPU such as lavapipe)")
      ->check(CLI::IsMember({"cpu", "vulkan", "auto"}));
  app.add_option("--progressive", args.progressive,
                 "CPU drawing: render at a reduced scale while the view moves, full resolution once it rests (on|off)")
      ->transform(CLI::Transformer(std::map<std::string, std::string>{{"on", "1"}, {"off", "0"}}));
  app.add_option("--target-fps", args.target_fps, "CPU drawing: frame rate to keep while moving (default 20)")
      ->check(CLI::Range(1.0, 1000.0));
  app.add_option("--spin", args.spin, "Orbit the view by this many degrees every frame (benchmarks, with --exit)");
  app.add_flag("--exit", args.exit_after, "Leave after --frames frames (automation, tests)");
  app.add_flag("--no-ui", args.no_ui, "Start with the panel hidden (H toggles it)");
  app.add_flag("--validation", args.validation, "Vulkan validation layer; exit 1 if it reports anything");
  app.add_flag("--exercise-window", args.exercise_window, "Resize and minimize the window during the first frames (tests)");
  app.add_option("--text-embeddings", args.text_embeddings,
                 "Phrase embeddings .npy [M, D] for the query box (as `sparsplat query`, docs/language.md)");
  app.add_option("--phrases-file", args.phrases_file, "JSON list of the M phrases (default: the .npy path with .json)");
  app.add_option("--dictionary", args.dictionary, "Language dictionaries .npy (default: <model stem>.language.npy)");
  app.add_option("--top-k", args.top_k, "Codes per Gaussian and level (as trained)")->check(CLI::Range(1, 256));
  app.add_option("--query", args.query, "Initial query phrase (one of the embedding file's)");
  app.add_option("--query-level", args.query_level, "auto (LERF: highest relevance), 1, 2 or 3");
  app.add_option("--heatmap-opacity", args.heatmap_opacity, "Overlay opacity")->check(CLI::Range(0.0, 1.0));
  app.add_option("--heatmap-threshold", args.heatmap_threshold, "Relevance below this is not tinted")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--query-size", args.query_size, "Longer side of the relevance map (CPU cost; default 640)")
      ->check(CLI::Range(8, 16384));
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "error: %s (see %s --help)\n", e.what(), argv[0]);
    return 2;
  }
  if (args.exit_after && args.frames <= 0) args.frames = 1;
  try {
    return sp::run_viewer(args);
  } catch (const sp::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return e.kind() == sp::ErrorKind::BadInput ? 2 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: internal failure: %s\n", e.what());
    return 1;
  }
}

# Test discovery: a newcomer adds a file, not CMake.
#  tests/unit/test_<module>[_<what>].c  cmocka unit tests, linked against kv_<module>
#  tests/t_<name>.sh                    scenario/integration scripts; "# ctest-label: online" marks
#                                       tests that start etcd/nginx/the API stand-in
#  fuzz/fuzz_<name>.c                   LLVMFuzzerTestOneInput; corpus fuzz/corpus/<name>/ replayed
set(KV_TEST_ENV KUBEVET=$<TARGET_FILE:kubevet> KV_SRC=${CMAKE_SOURCE_DIR} KV_BUILD=${CMAKE_BINARY_DIR})

if(CMOCKA_FOUND)
  file(GLOB KV_UNIT CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/unit/test_*.c)
  foreach(src ${KV_UNIT})
    get_filename_component(t ${src} NAME_WE)
    string(REGEX REPLACE "^test_([a-z]+).*" "\\1" mod ${t})
    add_executable(${t} ${src})
    target_include_directories(${t} PRIVATE ${CMAKE_SOURCE_DIR}/src/lib)
    target_link_libraries(${t} PRIVATE -Wl,--start-group ${KV_ALL_MODULES} -Wl,--end-group kv_util
                          ${KV_EXT} PkgConfig::CMOCKA)
    set_target_properties(${t} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
    add_test(NAME unit/${t} COMMAND ${t} WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
    set_tests_properties(unit/${t} PROPERTIES LABELS unit ENVIRONMENT "${KV_TEST_ENV}"
                         SKIP_RETURN_CODE 77)
  endforeach()
endif()

file(GLOB KV_SCRIPTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/t_*.sh)
foreach(src ${KV_SCRIPTS})
  get_filename_component(t ${src} NAME_WE)
  add_test(NAME ${t} COMMAND bash ${src} WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
  file(STRINGS ${src} online REGEX "^# ctest-label: online")
  set(labels scenario)
  if(online)
    set(labels online)
  endif()
  # "# ctest-peers: PATTERN": the cases needing ../shared/peer-fixtures run as ${t}/peers (the
  # script's exit 77 shows them as skipped in a clone without ../shared), the rest as ${t}.
  file(STRINGS ${src} peers REGEX "^# ctest-peers: ")
  if(peers)
    string(REGEX REPLACE "^# ctest-peers: *" "" peers "${peers}")
    add_test(NAME ${t}/peers COMMAND bash ${src} ${peers} WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
    set_tests_properties(${t}/peers PROPERTIES LABELS "${labels}" ENVIRONMENT "${KV_TEST_ENV}"
                         TIMEOUT 600 SKIP_RETURN_CODE 77)
    set_tests_properties(${t} PROPERTIES ENVIRONMENT "${KV_TEST_ENV};KV_EXCLUDE=${peers}")
  else()
    set_tests_properties(${t} PROPERTIES ENVIRONMENT "${KV_TEST_ENV}")
  endif()
  set_tests_properties(${t} PROPERTIES LABELS "${labels}" TIMEOUT 600 SKIP_RETURN_CODE 77)
endforeach()

set(KV_PEERS ${CMAKE_SOURCE_DIR}/../shared/peer-fixtures)
set(KV_PEER_CORPUS_pki x509-certificate-exporter kubernetes)
set(KV_PEER_CORPUS_kubeconfig x509-certificate-exporter kubernetes kube-no-trouble)
set(KV_PEER_CORPUS_snapshot etcd auger/boltdb)
set(KV_PEER_CORPUS_manifest kube-no-trouble pluto)
set(KV_PEER_CORPUS_convert kube-no-trouble)
file(GLOB KV_FUZZ_SRC CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/fuzz/fuzz_*.c)
foreach(src ${KV_FUZZ_SRC})
  get_filename_component(t ${src} NAME_WE)
  string(REGEX REPLACE "^fuzz_" "" name ${t})
  add_executable(replay_${name} ${src} ${CMAKE_SOURCE_DIR}/fuzz/replay.c)
  target_include_directories(replay_${name} PRIVATE ${CMAKE_SOURCE_DIR}/src/lib)
  target_link_libraries(replay_${name} PRIVATE -Wl,--start-group ${KV_ALL_MODULES}
                        -Wl,--end-group kv_util ${KV_EXT})
  set_target_properties(replay_${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fuzz)
  # Other projects' own test inputs (../shared/peer-fixtures) are replayed too, where present.
  set(peers)
  foreach(p ${KV_PEER_CORPUS_${name}})
    list(APPEND peers ${KV_PEERS}/${p})
  endforeach()
  add_test(NAME fuzz/${name} COMMAND replay_${name} ${CMAKE_SOURCE_DIR}/fuzz/corpus/${name})
  set_tests_properties(fuzz/${name} PROPERTIES LABELS fuzz)
  if(peers)
    # exit 77 (skipped) when none of them is here: a clone without ../shared
    add_test(NAME fuzz/${name}/peers COMMAND replay_${name} ${peers})
    set_tests_properties(fuzz/${name}/peers PROPERTIES LABELS fuzz SKIP_RETURN_CODE 77)
  endif()
  if(KV_FUZZ)
    # The libraries carry -fsanitize=fuzzer-no-link (CMakeLists.txt); the harness links libFuzzer.
    add_executable(fuzz_${name} ${src})
    target_compile_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
    target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
    target_include_directories(fuzz_${name} PRIVATE ${CMAKE_SOURCE_DIR}/src/lib)
    target_link_libraries(fuzz_${name} PRIVATE -Wl,--start-group ${KV_ALL_MODULES}
                          -Wl,--end-group kv_util ${KV_EXT})
    set_target_properties(fuzz_${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fuzz)
    list(APPEND KV_FUZZERS fuzz_${name})
  endif()
endforeach()
if(KV_FUZZ)
  add_custom_target(fuzzers DEPENDS ${KV_FUZZERS})
endif()

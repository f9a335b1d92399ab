int cfg_placeholder;
